"""`terrapole jobs/credits/purge`: what an operator sees and does, as a subprocess."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from terrapole.access import AccessService
from terrapole.catalog.store import open_store
from terrapole.config import Settings
from terrapole.jobs.process import File, Result
from terrapole.jobs.registry import default_processes
from terrapole.jobs.results import publish
from terrapole.jobs.states import State
from terrapole.jobs.store import JobStore
from terrapole.storage import LocalStorage

TERRAPOLE = str(Path(sys.executable).parent / "terrapole")


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"TERRAPOLE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "COLUMNS": "250"}
    return subprocess.run([TERRAPOLE, *args], env=env, capture_output=True, text=True, timeout=60)


def test_list_show_logs_cancel_credits_and_purge(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    store, storage = open_store(settings), LocalStorage(settings.assets_dir)
    access = AccessService(settings.database_url)
    jobs = JobStore(settings.database_url, default_credit=settings.job_credit_cpu_s)
    queued = jobs.submit("zonal-statistics", "ana", {"item": "x"}, 12.0)
    done = jobs.submit("zonal-statistics", "ana", {"item": "y"}, 5.0)
    jobs.start(done.id)
    table = tmp_path / "statistics.csv"
    table.write_text("zone,count\n1,4\n")
    now = datetime.now(UTC)
    square = {"type": "Polygon", "coordinates": [[[5, 45], [6, 45], [6, 46], [5, 46], [5, 45]]]}
    result = Result(geometry=square, start=now, end=now,
                    files=[File("table", table, "text/csv", "Statistics")])  # fmt: skip
    outputs = publish(jobs.get(done.id), default_processes()["zonal-statistics"], result, tmp_path,
                      store, storage, access)  # fmt: skip
    jobs.finish(done.id, State.SUCCESSFUL, outputs=outputs, cpu_s=4.0,
                retention=timedelta(seconds=-1))  # already past its purge date  # fmt: skip
    assert storage.exists(outputs.assets["table"].removeprefix("/assets/"))

    listed = _run(tmp_path, "jobs", "list")
    assert listed.returncode == 0, listed.stderr
    assert queued.id[:12] in listed.stdout and "accepted" in listed.stdout
    assert "successful" in listed.stdout
    shown = _run(tmp_path, "jobs", "show", done.id[:12])
    assert shown.returncode == 0 and "4.0" in shown.stdout and "results-ana" in shown.stdout
    logs = _run(tmp_path, "jobs", "logs", done.id)
    assert "accepted: zonal-statistics, estimated 5 CPU·s" in logs.stdout
    assert "successful" in logs.stdout
    cancelled = _run(tmp_path, "jobs", "cancel", queued.id[:12])
    assert cancelled.returncode == 0 and "dismissed" in cancelled.stderr
    again = _run(tmp_path, "jobs", "cancel", queued.id)
    assert again.returncode == 1 and "cannot go from dismissed to dismissed" in again.stderr
    assert _run(tmp_path, "jobs", "show", "0123456789abcdef").returncode == 4  # unknown

    assert "4 CPU·s used and 0 reserved of 30,000; 29,996 left" in _run(
        tmp_path, "credits", "show", "ana").stdout  # fmt: skip
    assert _run(tmp_path, "credits", "set", "ana", "100").returncode == 0
    assert "96 left" in _run(tmp_path, "credits", "show", "ana").stdout
    assert _run(tmp_path, "credits", "set", "ana", "--", "-5").returncode == 2

    stats = _run(tmp_path, "jobs", "stats")
    assert "zonal-statistics" in stats.stdout and "100 %" in stats.stdout

    purged = _run(tmp_path, "purge")
    assert purged.returncode == 0 and done.id in purged.stdout
    assert not storage.exists(outputs.assets["table"].removeprefix("/assets/"))
    assert jobs.get(done.id).purged
    assert _run(tmp_path, "purge").stdout.strip() == ""  # nothing left to purge
    store.close()
    access.close()
    jobs.close()

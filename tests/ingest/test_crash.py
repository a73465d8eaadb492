"""kill -9 of `terrapole ingest`: its workers die with it, the next ingest removes its debris."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from terrapole.storage.staging import LOCKS, owner_of

from ..storage.processes import TERRAPOLE, alive, descendants, staging_owner, start_cli, wait_for
from .conftest import CLEAR, THEIA


def test_kill_9_of_an_ingest_leaves_no_worker_and_the_next_ingest_cleans_up(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "TERRAPOLE_DATA_DIR": str(tmp_path)}
    assets = tmp_path / "assets"
    staging = assets / ".staging"
    cli = start_cli(tmp_path, "ingest", str(THEIA), "--workers", "2")
    try:
        # midway: both workers started and products staged, not all published
        workers = wait_for(
            lambda: (
                staging.is_dir()
                and any(staging.iterdir())
                and len(d := descendants(cli.pid)) >= 2
                and d
            ),
            "the ingest's two workers and staging folders",
        )
        os.kill(cli.pid, 9)
    finally:
        cli.kill()
        cli.wait()
    wait_for(lambda: not any(alive(p) for p in workers), "the workers to exit with the CLI")
    debris = sorted(staging.iterdir())
    assert debris  # staged products nobody will publish

    with staging_owner(assets) as live:  # another process staging at the same time
        done = subprocess.run(
            [TERRAPOLE, "ingest", str(CLEAR), "--json"], env=env, capture_output=True, text=True
        )
        assert not [p for p in debris if p.exists()]
        assert sorted(staging.iterdir()) == [live.folder]
        assert [p.stem for p in (assets / LOCKS).iterdir()] == [owner_of(live.folder.name)]
    assert done.returncode == 0, done.stdout  # and the product went in

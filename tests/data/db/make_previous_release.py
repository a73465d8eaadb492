"""Make ``previous_release.sqlite``: a database as terrapole 45c97f3 (before migrations) left it.

Run with that release's code on the path, not this checkout's::

    git archive 45c97f3 src | tar -x -C /tmp/tp-45c97f3
    PYTHONPATH=/tmp/tp-45c97f3/src .venv/bin/python tests/data/db/make_previous_release.py \
        tests/data/db/previous_release.sqlite

The services create their tables as that release did (``metadata.create_all`` when they open
the database), in the order its ``create_app`` opened them: catalogue, access, jobs.
"""

from __future__ import annotations

import sqlite3
import sys
from datetime import timedelta
from pathlib import Path

from terrapole.access import AccessService
from terrapole.catalog.sqlite import SqliteStore
from terrapole.jobs.states import State
from terrapole.jobs.store import JobStore
from terrapole.openeo.batch import BatchJobs

COLLECTION = {
    "type": "Collection", "stac_version": "1.0.0", "id": "ndvi-demo", "description": "demo",
    "license": "CC-BY-4.0", "links": [],
    "extent": {"spatial": {"bbox": [[5.0, 45.0, 6.0, 46.0]]},
               "temporal": {"interval": [["2018-01-01T00:00:00Z", None]]}},
}  # fmt: skip


def main(path: Path) -> None:
    """Write the database at ``path`` (replaced if it exists)."""
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    catalogue = SqliteStore(path)
    catalogue.create_collection(COLLECTION)
    catalogue.close()

    access = AccessService(url)
    access.create_token("ana", groups=["partners"])
    access.restrict("ndvi-demo", ["partners"])
    access.close()

    jobs = JobStore(url, default_credit=5000.0)
    done = jobs.submit("burn", "ana", {"seconds": 1}, 300.0)
    jobs.start(done.id)
    jobs.report(done.id, stage="BURN", progress=50.0, cpu_s=120.0)
    jobs.finish(done.id, State.SUCCESSFUL, outputs={"result": "done"}, cpu_s=250.0,
                retention=timedelta(days=30))  # fmt: skip
    batch = BatchJobs(jobs)
    openeo_id = batch.create("ana", {"process_graph": {}}, "a graph", None)
    queued = jobs.submit("openeo-graph", "ana", {"process": {"process_graph": {}}}, 100.0)
    batch.started(openeo_id, queued.id)
    jobs.close()

    with sqlite3.connect(path) as con:  # everything in the main file, no -wal beside it
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("PRAGMA journal_mode=DELETE")
    con.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))

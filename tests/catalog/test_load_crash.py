"""kill -9 of `terrapole load --workers 2`: its parsing workers die with it."""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from ..conftest import DEMO
from ..storage.processes import alive, descendants, start_cli, wait_for

NAIP = DEMO / "naip" / "items.ndjson"


def test_kill_9_of_a_load_leaves_no_worker(tmp_path: Path) -> None:
    # the 1,000 real NAIP items ten times over (new ids): parsing outlasts the workers' start
    items = [orjson.loads(line) for line in NAIP.read_bytes().splitlines() if line.strip()]
    big = tmp_path / "naip.ndjson"
    with big.open("wb") as out:
        for copy in range(10):
            for item in items:
                out.write(orjson.dumps({**item, "id": f"{item['id']}-{copy}"}) + b"\n")
    cli = start_cli(tmp_path / "data", "load", str(big), "--workers", "2")
    try:
        workers = wait_for(
            lambda: len(d := descendants(cli.pid)) >= 2 and d, "the load's two workers"
        )
        assert cli.poll() is None  # still loading
        os.kill(cli.pid, 9)
    finally:
        cli.kill()
        cli.wait()
    wait_for(lambda: not any(alive(p) for p in workers), "the workers to exit with the CLI")

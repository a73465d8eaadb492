"""`terrapole serve --workers 2`: start-up cleans stale staging; kill -9 takes its workers too."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from .processes import TERRAPOLE, alive, descendants, staging_owner, wait_for


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_kill_9_of_serve_leaves_no_worker_and_its_start_cleaned_staging(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    with staging_owner(assets) as dead:
        dead.kill()
    env = {**os.environ, "TERRAPOLE_DATA_DIR": str(tmp_path)}
    port = str(_free_port())
    cli = subprocess.Popen(
        [TERRAPOLE, "serve", "--port", port, "--workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        # started: the workers ran the app's start-up, which removed the dead process's folder
        workers = wait_for(
            lambda: not dead.folder.exists() and len(d := descendants(cli.pid)) >= 2 and d,
            "the server's workers to start",
        )
        assert cli.poll() is None
        os.kill(cli.pid, 9)
    finally:
        cli.kill()
        cli.wait()
    wait_for(lambda: not any(alive(p) for p in workers), "the workers to exit with the CLI")
    with socket.socket() as sock:  # nobody serves the port any more
        assert sock.connect_ex(("127.0.0.1", int(port))) != 0

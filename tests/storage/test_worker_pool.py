"""Pools whose workers die with their parent work whatever the default start method."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_the_pool_works_where_the_default_start_method_is_forkserver() -> None:
    """Python 3.14 starts workers from a fork server on Linux: their parent is not this
    process, and a parent check made every worker exit at once (BrokenProcessPool)."""
    script = textwrap.dedent("""
        import multiprocessing
        multiprocessing.set_start_method("forkserver")
        from terrapole.worker_pool import worker_pool
        if __name__ == "__main__":
            with worker_pool(2) as pool:
                print(sum(pool.map(abs, [-1, -2, -3])))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-800:]
    assert done.stdout.strip() == "6"

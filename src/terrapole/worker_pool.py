"""Process pools whose workers exit when the process that started them dies.

A worker of a plain :class:`~concurrent.futures.ProcessPoolExecutor` outlives a parent killed
with ``kill -9``: it goes on writing into staging folders nobody will publish. Each worker here
asks the kernel for SIGKILL when its parent goes (Linux ``PR_SET_PDEATHSIG``), then checks that
the parent did not die before that request (else it exits at once); where ``prctl`` does not
exist, a thread watches the parent id instead. The kernel's "parent" is the thread that started
the worker: keep a pool inside the ``with`` block of the thread that made it (as both users do).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_INTERVAL_S = 0.5


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes that exit with this process.

    The workers are forked, whatever the platform's default start method: with forkserver
    (Python 3.14's default on Linux) their parent would be the fork server, not this process.
    """
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=exit_with_parent,
        initargs=(os.getpid(),),
    )


def exit_with_parent(parent: int) -> None:
    """Pool initializer: make this process die as soon as ``parent`` does."""
    if not _kill_on_parent_death():
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the request above took effect
        os._exit(1)


def _kill_on_parent_death() -> bool:
    """Ask the kernel for SIGKILL at the parent's death; False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_INTERVAL_S)
    os._exit(1)

"""Gates a test process waits at until the test opens them: a job held at a known point, so
that a test acts on it there instead of sleeping and hoping the job is where it expects.

A gate is found by name (the job's id) in this module, so the job must run in a worker thread
of the test's own process (``dask_processes=False``).
"""

from __future__ import annotations

import threading

WAIT_S = 120.0  # only ever reached when something is broken


class Gate:
    """Two events: the job reached the gate; the test opened it."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.opened = threading.Event()


_gates: dict[str, Gate] = {}
_lock = threading.Lock()


def gate(name: str) -> Gate:
    """The gate ``name``, made by whichever side asks first."""
    with _lock:
        return _gates.setdefault(name, Gate())


def hold(name: str) -> None:
    """(the job) Say it is at the gate, then wait until the test opens it."""
    here = gate(name)
    here.reached.set()
    if not here.opened.wait(WAIT_S):
        raise TimeoutError(f"gate {name} was never opened")


def reached(name: str) -> None:
    """(the test) Wait until the job is at the gate."""
    assert gate(name).reached.wait(WAIT_S), f"the job never reached gate {name}"


def release(name: str) -> None:
    """(the test) Let the job go on."""
    gate(name).opened.set()


def release_all() -> None:
    """(the test, when it ends) Let every held job go on."""
    with _lock:
        for held in _gates.values():
            held.opened.set()

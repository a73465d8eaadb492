"""The job state machine, sans I/O: states, the one transitions table, terminal states.

``failed`` means the process itself failed (bad data, an error in the algorithm); ``crashed``
means the machinery did (the worker died, the server restarted mid-job). OGC API Processes
knows no ``crashed``: the adapter reports it as ``failed`` with the reason.
"""

from __future__ import annotations

from enum import StrEnum

from terrapole.errors import TerrapoleError


class State(StrEnum):
    """Where a job is."""

    ACCEPTED = "accepted"
    RUNNING = "running"
    SUCCESSFUL = "successful"
    FAILED = "failed"
    CRASHED = "crashed"
    DISMISSED = "dismissed"


TERMINAL = frozenset({State.SUCCESSFUL, State.FAILED, State.CRASHED, State.DISMISSED})

TRANSITIONS: dict[State, frozenset[State]] = {
    State.ACCEPTED: frozenset({State.RUNNING, State.DISMISSED, State.CRASHED}),
    State.RUNNING: frozenset({State.SUCCESSFUL, State.FAILED, State.CRASHED, State.DISMISSED}),
    **{state: frozenset() for state in TERMINAL},
}


class InvalidTransition(TerrapoleError):
    """A job was asked to move where the transitions table does not allow."""

    def __init__(self, job_id: str, start: State, finish: State) -> None:
        super().__init__(f"job {job_id}: cannot go from {start} to {finish}")
        self.job_id, self.start, self.finish = job_id, start, finish


def check_transition(job_id: str, start: State, finish: State) -> State:
    """``finish`` when the table allows ``start`` -> ``finish``; raise otherwise."""
    if finish not in TRANSITIONS[start]:
        raise InvalidTransition(job_id, start, finish)
    return finish

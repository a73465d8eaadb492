"""The job state machine: the transitions table alone decides."""

from __future__ import annotations

import pytest

from terrapole.jobs.states import TERMINAL, TRANSITIONS, InvalidTransition, State, check_transition


def test_allowed_moves() -> None:
    assert check_transition("j", State.ACCEPTED, State.RUNNING) is State.RUNNING
    assert check_transition("j", State.RUNNING, State.SUCCESSFUL) is State.SUCCESSFUL
    assert check_transition("j", State.RUNNING, State.CRASHED) is State.CRASHED
    assert check_transition("j", State.ACCEPTED, State.DISMISSED) is State.DISMISSED


@pytest.mark.parametrize("final", sorted(TERMINAL))
def test_terminal_states_never_move(final: State) -> None:
    assert not TRANSITIONS[final]
    for state in State:
        with pytest.raises(InvalidTransition, match=f"cannot go from {final} to {state}"):
            check_transition("j", final, state)


def test_a_job_cannot_skip_running() -> None:
    with pytest.raises(InvalidTransition):
        check_transition("j", State.ACCEPTED, State.SUCCESSFUL)

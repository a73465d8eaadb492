"""A test process that burns CPU (or sleeps) in stages: exercises the job machinery itself.

Burning spins until the thread has used the CPU·s asked (not until a wall-clock time), so a
job's CPU·s are known whatever else the machine runs: at least ``seconds / 10`` a stage.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, ClassVar

from terrapole.catalog.store import Store
from terrapole.jobs.process import JobContext, Parameter, Process, Result

Json = dict[str, Any]


class Burn(Process):
    """Spin the CPU (or sleep) for a number of seconds, reporting ten stages of progress."""

    id: ClassVar[str] = "burn"
    title: ClassVar[str] = "Burn CPU"
    description: ClassVar[str] = "test process"
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter("seconds", "Seconds", {"type": "number", "minimum": 0, "maximum": 600}),
        Parameter("sleep", "Sleep instead", {"type": "boolean"}, expert=True, default=False),
        Parameter("fail", "Fail at the end", {"type": "boolean"}, expert=True, default=False),
        Parameter(
            "hold",
            "Wait before this stage until the test opens the job's gate",
            {"type": "integer", "minimum": -1, "maximum": 9},
            expert=True,
            default=-1,
        ),
    )
    outputs: ClassVar[dict[str, Json]] = {}
    stages: ClassVar[tuple[str, ...]] = ("BURN",)

    def estimate(self, inputs: Json, store: Store) -> float:
        return float(inputs["seconds"]) + 1.0

    def run(self, context: JobContext, inputs: Json) -> Result:
        step = float(inputs["seconds"]) / 10
        for n in range(10):
            if n == inputs.get("hold", -1):
                _hold(context.job_id)
            context.stage("BURN", n * 10)
            if inputs["sleep"]:
                time.sleep(step)
            else:
                end = time.thread_time() + step
                while time.thread_time() < end:
                    pass
        context.log("burnt")
        if inputs["fail"]:
            raise ValueError("asked to fail")
        now = datetime.now(UTC)
        square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
        return Result(geometry=square, start=now, end=now)


def _hold(job_id: str) -> None:
    # imported here, by name: this module travels to the workers by value, the gates may not
    from tests.jobs import gate

    gate.hold(job_id)

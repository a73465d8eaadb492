"""A test process that burns CPU (or sleeps) in stages: exercises the job machinery itself."""

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
    )
    outputs: ClassVar[dict[str, Json]] = {}
    stages: ClassVar[tuple[str, ...]] = ("BURN",)

    def estimate(self, inputs: Json, store: Store) -> float:
        return float(inputs["seconds"]) + 1.0

    def run(self, context: JobContext, inputs: Json) -> Result:
        step = float(inputs["seconds"]) / 10
        for n in range(10):
            context.stage("BURN", n * 10)
            end = time.perf_counter() + step
            if inputs["sleep"]:
                time.sleep(step)
            else:
                while time.perf_counter() < end:
                    pass
        context.log("burnt")
        if inputs["fail"]:
            raise ValueError("asked to fail")
        now = datetime.now(UTC)
        square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
        return Result(geometry=square, start=now, end=now)

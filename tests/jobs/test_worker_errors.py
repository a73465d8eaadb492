"""What a failed job tells its owner: the process's own message, never the server's internals
(a traceback, a file path, the database's error text), which stay in the server's log."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar

import pytest

from terrapole.errors import InvalidInput, StoreUnavailable
from terrapole.jobs.process import JobContext, Result
from terrapole.jobs.worker import execute, user_reason

from . import burn
from .conftest import make_app

SECRET_PATH = "/srv/terrapole/data/assets/.staging/job-x/secret.tif"


class Broken(burn.Burn):
    """Fails the way a bug, a file or the database would."""

    id: ClassVar[str] = "broken"
    failure: ClassVar[Exception] = RuntimeError(f"bug near {SECRET_PATH}")

    def run(self, context: JobContext, inputs: Any) -> Result:
        raise self.failure


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (RuntimeError(f"bug near {SECRET_PATH}"), "internal error (job {id})"),
        (FileNotFoundError(2, "No such file or directory", SECRET_PATH),
         "a file could not be read or written (job {id})"),
        (StoreUnavailable("cannot reach PostgreSQL: connection to 10.0.0.5 port 5432 refused"),
         "the catalogue could not be read or written (job {id})"),
        (InvalidInput("zones", "must hold at least one polygon"),
         "invalid zones: must hold at least one polygon"),
    ],
)  # fmt: skip
def test_a_failed_job_says_what_went_wrong_without_internals(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, failure: Exception, reason: str
) -> None:
    app = make_app(tmp_path / "data", dask_workers=1, dask_processes=False)
    runner = app.state.jobs
    process = type("Failing", (Broken,), {"failure": failure})()
    job = runner.jobs.submit("broken", "ana", {"seconds": 0}, 1.0)
    with caplog.at_level(logging.WARNING, logger="terrapole.jobs.worker"):
        outcome = execute(job.id, process, {"seconds": 0}, runner.settings.model_dump_json(),
                          str(tmp_path / "work"))  # fmt: skip
    assert outcome.error == reason.format(id=job.id)
    shown = outcome.error + " ".join(line.message for line in runner.jobs.logs(job.id))
    assert SECRET_PATH not in shown and "Traceback" not in shown and "10.0.0.5" not in shown
    if not isinstance(failure, InvalidInput):  # the details are kept for the operator
        assert str(failure) in caplog.text or SECRET_PATH in caplog.text
    runner.close()


def test_a_user_error_keeps_its_message() -> None:
    assert user_reason("j", ValueError("asked to fail")) == "asked to fail"

"""CLI for on-demand jobs: ``terrapole jobs list/show/logs/cancel``, ``credits``, ``purge``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.table import Table

from terrapole.access import AccessService
from terrapole.catalog.store import open_store
from terrapole.config import Settings, load_settings
from terrapole.jobs.runner import JobRunner
from terrapole.jobs.store import Job, JobStore
from terrapole.storage import open_storage

jobs_app = typer.Typer(help="Follow and cancel on-demand jobs.", no_args_is_help=True)
credits_app = typer.Typer(help="Show and set users' CPU credits.", no_args_is_help=True)
console = Console(stderr=True)
out = Console()


def command_settings() -> Settings:
    """The settings the ``terrapole`` callback read for the running command (read once, passed).

    Called outside a command (no click context holds them), it reads them itself.
    """
    context = click.get_current_context(silent=True)
    settings = context.find_object(Settings) if context is not None else None
    return settings if settings is not None else load_settings()


def _jobs() -> JobStore:
    settings = command_settings()
    return JobStore(settings.database_url, default_credit=settings.job_credit_cpu_s)


@contextmanager
def _runner() -> Iterator[JobRunner]:
    from terrapole.jobs.registry import default_processes

    settings = command_settings()
    store = open_store(settings)
    access = AccessService(settings.database_url)
    runner = JobRunner(settings, store, open_storage(settings), access,
                       default_processes(settings.cars_command))  # fmt: skip
    try:
        yield runner
    finally:
        runner.close()
        access.close()
        store.close()


def _when(job: Job, field: str) -> str:
    moment = getattr(job, field)
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


@jobs_app.command("list")
def jobs_list(
    owner: Annotated[str | None, typer.Option(help="only this user's jobs")] = None,
    process: Annotated[str | None, typer.Option(help="only this process")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """Jobs, newest first: state, stage, progress, CPU·s against the estimate."""
    table = Table("id", "process", "owner", "state", "stage", "%", "CPU·s", "estimate", "created")
    for job in _jobs().find(owner, process=process, limit=limit):
        table.add_row(job.id[:12], job.process, job.owner, job.state.value, job.stage,
                      f"{job.progress:.0f}", f"{job.cpu_s:,.1f}", f"{job.estimate_cpu_s:,.1f}",
                      _when(job, "created"))  # fmt: skip
    out.print(table)


@jobs_app.command("show")
def jobs_show(job_id: str) -> None:
    """One job in full."""
    job = _jobs().resolve(job_id)
    table = Table("field", "value", show_header=False)
    for field in ("id", "process", "owner", "state", "stage", "progress", "cpu_s",
                  "estimate_cpu_s", "reason", "created", "started", "finished", "expires",
                  "purged", "inputs"):  # fmt: skip
        table.add_row(field, str(getattr(job, field)))
    table.add_row("outputs", str(job.outputs.to_json()))  # as stored, as before
    out.print(table)


@jobs_app.command("logs")
def jobs_logs(job_id: str) -> None:
    """A job's log lines."""
    jobs = _jobs()
    for line in jobs.logs(jobs.resolve(job_id).id):
        out.print(f"{line.at:%Y-%m-%d %H:%M:%S} {line.level:5} {line.message}", highlight=False)


@jobs_app.command("cancel")
def jobs_cancel(job_id: str) -> None:
    """Dismiss a queued or running job (a running one stops at its next progress report)."""
    jobs = _jobs()
    job = jobs.dismiss(jobs.resolve(job_id).id, reason="cancelled by an administrator")
    console.print(f"job {job.id} is {job.state.value}")


@jobs_app.command("stats")
def jobs_stats() -> None:
    """Per process: jobs, users, success rate and CPU·s."""
    table = Table("process", "jobs", "users", "successful", "failed", "success rate", "CPU·s")
    for row in _jobs().statistics():
        rate = "" if row["success_rate"] is None else f"{100 * row['success_rate']:.0f} %"
        table.add_row(row["process"], str(row["jobs"]), str(row["users"]), str(row["successful"]),
                      str(row["failed"]), rate, f"{row['cpu_s']:,.1f}")  # fmt: skip
    out.print(table)


@credits_app.command("show")
def credits_show(owner: str) -> None:
    """A user's credit: total, used, reserved by jobs in progress, left."""
    credit = _jobs().credit(owner)
    out.print(f"{owner}: {credit.used:,.0f} CPU·s used and {credit.reserved:,.0f} reserved of "
              f"{credit.credit:,.0f}; {credit.left:,.0f} left", highlight=False)  # fmt: skip


@credits_app.command("set")
def credits_set(owner: str, cpu_s: Annotated[float, typer.Argument(help="total credit")]) -> None:
    """Set a user's total credit in CPU·s."""
    credit = _jobs().set_credit(owner, cpu_s)
    console.print(f"{owner}: credit {credit.credit:,.0f} CPU·s, {credit.left:,.0f} left")


def purge() -> None:
    """Delete the results of jobs past their purge date (items and files)."""
    with _runner() as runner:
        purged = runner.purge()
    console.print(f"purged the results of {len(purged)} job(s)")
    for job_id in purged:
        out.print(job_id, highlight=False)

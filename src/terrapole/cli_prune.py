"""``terrapole prune``: delete the rows past their use now, as the server does every hour.

For deployments that turned the server's schedule off (``prune_interval_s = 0``) and run it
from cron instead, or for an operator who wants the counts.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from terrapole import db
from terrapole.access.retention import prune as prune_rows
from terrapole.cli_jobs import command_settings
from terrapole.web import housekeeping

out = Console()


def prune() -> None:
    """Delete stale login failures, expired sessions, used or expired mailed links and the
    usage rows past ``usage_retention_days``; print the rows deleted per table."""
    settings = command_settings()
    engine = db.open_engine(settings.database_url)
    try:
        rules = housekeeping.rules_for(housekeeping.retention(settings))
        counts = prune_rows(engine, rules(datetime.now(UTC)))
    finally:
        engine.dispose()
    for table, deleted in counts.items():
        out.print(f"{table}: {deleted} deleted", highlight=False)
    out.print(f"total: {sum(counts.values())} row(s) deleted", highlight=False)

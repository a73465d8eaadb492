"""Housekeeping of the access tables: rows past their use are deleted, on a schedule.

What goes, each by one ``DELETE`` in a transaction of its own (so one table's failure or lock
never holds the others back, and a long prune never holds a write lock on them all):

- login failures older than the rate limit's window (they no longer count against anyone);
- mailed links (verification, password reset) used or expired more than ``link_grace`` ago
  (kept that long so a replayed link is still told "already used" or "expired");
- usage rollup rows of the days past ``usage_days`` (the statistics keep that many days).

Tables of other layers (the web sessions) join through their own :class:`Rule`, so this module
names no table it does not own. :class:`Pruner` runs a prune every ``interval_s`` in a
background thread, logging the counts; a failure is logged and retried at the next turn.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from terrapole.access.accounts import RateLimit
from terrapole.access.tables import account_links, login_failures, usage_daily
from terrapole.errors import InvalidInput

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    """How long each kind of row is kept."""

    login_window: timedelta = RateLimit().window
    link_grace: timedelta = timedelta(days=7)
    usage_days: int = 730

    def __post_init__(self) -> None:
        if self.usage_days < 1:
            raise InvalidInput("usage_retention_days", f"at least 1 day, not {self.usage_days}")
        if self.login_window <= timedelta(0) or self.link_grace < timedelta(0):
            raise InvalidInput("retention", "the login window is > 0 and the link grace ≥ 0")


@dataclass(frozen=True)
class Rule:
    """The rows of ``table`` to delete: those ``stale`` selects."""

    table: sa.Table
    stale: sa.ColumnElement[bool]

    @property
    def name(self) -> str:
        """The table's name, as counts are reported."""
        return self.table.name


Rules = Callable[[datetime], Sequence[Rule]]
"""``now -> rules``: what a prune deletes at a given moment."""


def access_rules(retention: Retention, now: datetime) -> list[Rule]:
    """The rules of the access tables at ``now``.

    Times are compared in UTC, as they are stored (SQLite keeps them as text without offset).
    """
    now = now.astimezone(UTC)
    links_before = now - retention.link_grace
    first_day_kept = now.date() - timedelta(days=retention.usage_days)
    return [
        Rule(login_failures, login_failures.c.at < now - retention.login_window),
        Rule(
            account_links,
            sa.or_(account_links.c.used < links_before, account_links.c.expires < links_before),
        ),
        Rule(usage_daily, usage_daily.c.day < first_day_kept),
    ]


def prune(engine: sa.Engine, rules: Sequence[Rule]) -> dict[str, int]:
    """Delete what ``rules`` select, one transaction per table; rows deleted per table."""
    counts: dict[str, int] = {}
    for rule in rules:
        with engine.begin() as con:
            counts[rule.name] = con.execute(rule.table.delete().where(rule.stale)).rowcount
    return counts


def _now() -> datetime:
    return datetime.now(UTC)


class Pruner:
    """Prunes ``engine`` every ``interval_s`` seconds in a background thread.

    The first prune runs one interval after :meth:`start`; :meth:`stop` waits for a prune under
    way to end. Any failure is logged, never raised: the next turn tries again.
    """

    def __init__(
        self,
        engine: sa.Engine,
        rules: Rules,
        *,
        interval_s: float,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        if not interval_s > 0:
            raise InvalidInput("prune_interval_s", f"a positive interval, not {interval_s!r}")
        self.engine, self.rules, self.interval_s, self.clock = engine, rules, interval_s, clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last: dict[str, int] | None = None
        """The counts of the last prune that succeeded (None: none yet)."""

    def start(self) -> None:
        """Start the background thread (again after :meth:`stop`; once while it runs)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="terrapole-prune", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread, after the prune under way if there is one."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def run_once(self) -> dict[str, int] | None:
        """One prune now: the counts, or None when it failed (the failure is logged)."""
        try:
            counts = prune(self.engine, self.rules(self.clock()))
        except Exception:  # the server outlives a failed housekeeping turn
            logger.exception("prune failed; it is tried again in %.0f s", self.interval_s)
            return None
        self.last = counts
        logger.info("pruned %s", ", ".join(f"{n} from {table}" for table, n in counts.items()))
        return counts

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.run_once()

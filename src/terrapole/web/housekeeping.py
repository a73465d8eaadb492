"""What the server prunes: the access tables' stale rows and the expired browser sessions.

The rules are those of :mod:`terrapole.access.retention` plus the sessions table, which lives
in the web layer; ``terrapole prune`` and the server's hourly :class:`Pruner` use the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from terrapole.access.retention import Pruner, Retention, Rule, Rules, access_rules
from terrapole.config import Settings
from terrapole.web.tables import sessions


def retention(settings: Settings) -> Retention:
    """How long rows are kept under ``settings``."""
    return Retention(usage_days=settings.usage_retention_days)


def rules_for(kept: Retention) -> Rules:
    """``now -> rules``: the access tables' rules and the expired sessions."""

    def rules(now: datetime) -> Sequence[Rule]:
        expired = Rule(sessions, sessions.c.expires <= now.astimezone(UTC))
        return [*access_rules(kept, now), expired]

    return rules


def pruner(settings: Settings, engine: sa.Engine) -> Pruner | None:
    """The server's scheduled prune, or None when ``prune_interval_s`` is 0 (turned off)."""
    if settings.prune_interval_s == 0:
        return None
    kept = rules_for(retention(settings))
    return Pruner(engine, kept, interval_s=settings.prune_interval_s)

"""Which records a reader may see, as far as the data they describe is concerned: a record of a
catalogue collection is hidden from whoever may not read that collection.

One rule for every path: the record book applies it to each caller's hidden collections
(:meth:`terrapole.access.AccessService.hidden_for`), the harvesting views (OAI-PMH, DCAT) to
those of an anonymous reader.
"""

from __future__ import annotations

from collections.abc import Set

import sqlalchemy as sa

from terrapole.fair.model import Source, SourceKind
from terrapole.fair.tables import records

_COLLECTION = SourceKind.COLLECTION.value


def describes_hidden(source: Source | None, hidden: Set[str]) -> bool:
    """Whether a record of ``source`` describes one of the ``hidden`` collections."""
    return source is not None and source.kind is SourceKind.COLLECTION and source.id in hidden


def not_hidden(hidden: Set[str]) -> list[sa.ColumnElement[bool]]:
    """The SQL conditions (on ``tp_fair_records``) that leave out the records of ``hidden``
    collections; none when nothing is hidden."""
    if not hidden:
        return []
    return [
        sa.or_(
            records.c.source_kind.is_(None),
            records.c.source_kind != _COLLECTION,
            records.c.source_id.not_in(sorted(hidden)),
        )
    ]


__all__ = ["describes_hidden", "not_hidden"]

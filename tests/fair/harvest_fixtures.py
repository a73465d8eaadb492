"""Published records written straight into the records table, many at once, for the
harvesting tests (the record book publishes one at a time, through every check)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from terrapole.fair.tables import records

from .records_fixtures import complete_record


def insert_published(
    engine: sa.Engine,
    count: int,
    *,
    start: datetime,
    step: timedelta = timedelta(seconds=1),
    owner: str = "user:bulk",
    collection: str | None = None,
) -> list[str]:
    """``count`` published records, the i-th changed at ``start + i * step``; their ids."""
    template = complete_record().to_json()
    rows = []
    for i in range(count):
        rid = uuid.uuid4().hex
        metadata = {**template, "titles": [{"title": f"Bulk record {i}", "lang": "en"}]}
        when = start + i * step
        rows.append({
            "id": rid, "concept_id": rid, "version_no": 1, "state": "published",
            "owner": owner, "title": f"Bulk record {i}", "metadata": metadata,
            "identifier": f"terrapole:bulk/{rid}", "source_kind": "collection" if collection
            else None, "source_id": collection, "previous_id": None, "created": when,
            "updated": when, "published": when, "withdrawn_reason": None,
        })  # fmt: skip
    with engine.begin() as con:
        con.execute(sa.insert(records), rows)
    return [row["id"] for row in rows]

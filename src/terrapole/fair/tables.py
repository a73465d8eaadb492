"""Tables of the FAIR records (SQLAlchemy Core; the same on SQLite and PostgreSQL).

A record row is one version of a resource: its state, its current metadata (JSON, the shape
of :meth:`terrapole.fair.model.Record.to_json`), its identifier once published, and the
concept id all versions of the resource share. Published metadata is also kept, immutable, in
``tp_fair_record_versions``; moves and review comments have their own tables. A change here
needs a new revision in ``terrapole/migrations/versions`` (revision 0010 made these).
"""

from __future__ import annotations

import sqlalchemy as sa

from terrapole.db import metadata

records = sa.Table(
    "tp_fair_records",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("concept_id", sa.String(32), nullable=False, index=True),
    sa.Column("version_no", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("owner", sa.String(200), nullable=False, index=True),
    sa.Column("title", sa.String(2000), nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
    # the identifier once published: a DOI ("10.x/y") or a local one ("terrapole:...")
    sa.Column("identifier", sa.String(300), nullable=True, unique=True),
    sa.Column("source_kind", sa.String(32), nullable=True),
    sa.Column("source_id", sa.String(256), nullable=True),
    sa.Column("previous_id", sa.String(32), nullable=True),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("published", sa.DateTime(timezone=True), nullable=True),
    sa.Column("withdrawn_reason", sa.Text, nullable=True),
    sa.Index("ix_tp_fair_records_source", "source_kind", "source_id"),
)

record_versions = sa.Table(
    "tp_fair_record_versions",
    metadata,
    # what was published, never updated: the record id and its identifier at that moment
    sa.Column("record_id", sa.String(32), sa.ForeignKey("tp_fair_records.id"), primary_key=True),
    sa.Column("identifier", sa.String(300), nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("published", sa.DateTime(timezone=True), nullable=False),
)

record_comments = sa.Table(
    "tp_fair_record_comments",
    metadata,
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "record_id", sa.String(32), sa.ForeignKey("tp_fair_records.id"), nullable=False, index=True
    ),  # fmt: skip
    sa.Column("author", sa.String(200), nullable=False),
    sa.Column("field", sa.String(300), nullable=True),  # the DataCite path it is about, if any
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

record_history = sa.Table(
    "tp_fair_record_history",
    metadata,
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "record_id", sa.String(32), sa.ForeignKey("tp_fair_records.id"), nullable=False, index=True
    ),  # fmt: skip
    sa.Column("start", sa.String(16), nullable=True),
    sa.Column("finish", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

"""Tables of the CES directory and of the calls for projects (revision 0012).

SQLAlchemy Core on the database layer's one MetaData, the same on SQLite and PostgreSQL; a
change here needs a new revision in ``terrapole/migrations/versions``.
"""

from __future__ import annotations

import sqlalchemy as sa

from terrapole.db import metadata

# -- the CES directory -------------------------------------------------------------------------
consortia = sa.Table(
    "tp_ces_consortia",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("acronym", sa.String(32), nullable=False),
    sa.Column("themes", sa.JSON, nullable=False),  # list of theme names
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("url", sa.String(2000), nullable=True),
    sa.Column("members", sa.JSON, nullable=False),  # list of Member records
    sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
)

offers = sa.Table(
    "tp_ces_offers",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "ces_id", sa.String(64), sa.ForeignKey("tp_ces_consortia.id"), nullable=False, index=True
    ),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # product | service
    sa.Column("trl", sa.Integer, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("collections", sa.JSON, nullable=False),  # catalogue collection ids
    sa.Column("urls", sa.JSON, nullable=False),  # service or documentation URLs
    sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
)

ces_history = sa.Table(
    "tp_ces_history",
    metadata,
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("target", sa.String(16), nullable=False),  # consortium | offer
    sa.Column("target_id", sa.String(64), nullable=False, index=True),
    sa.Column("action", sa.String(16), nullable=False),  # created | updated | deleted
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("record", sa.JSON, nullable=True),  # the record after the change (None: deleted)
)

# -- calls for projects ------------------------------------------------------------------------
calls = sa.Table(
    "tp_calls",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("types", sa.JSON, nullable=False),  # the project types offered
    sa.Column("opens", sa.Date, nullable=False),
    sa.Column("closes", sa.Date, nullable=True),  # None: open continuously
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
)

applications = sa.Table(
    "tp_call_applications",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("call_id", sa.String(64), sa.ForeignKey("tp_calls.id"), nullable=False, index=True),
    sa.Column("applicant", sa.String(64), nullable=False, index=True),  # account id
    sa.Column("project", sa.String(300), nullable=False),
    sa.Column("ces_id", sa.String(64), sa.ForeignKey("tp_ces_consortia.id"), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("resources", sa.JSON, nullable=False),  # resource name -> amount asked
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("submitted", sa.DateTime(timezone=True), nullable=True),
)

reviews = sa.Table(
    "tp_call_reviews",
    metadata,
    sa.Column(
        "application_id",
        sa.String(32),
        sa.ForeignKey("tp_call_applications.id"),
        primary_key=True,
    ),  # fmt: skip
    sa.Column("reviewer", sa.String(64), primary_key=True),  # account id
    sa.Column("assigned_by", sa.String(64), nullable=False),
    sa.Column("assigned", sa.DateTime(timezone=True), nullable=False),
    sa.Column("score", sa.Integer, nullable=True),  # None: not reviewed yet
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("reviewed", sa.DateTime(timezone=True), nullable=True),
)

application_history = sa.Table(
    "tp_call_history",
    metadata,
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "application_id",
        sa.String(32),
        sa.ForeignKey("tp_call_applications.id"),
        nullable=False,
        index=True,
    ),  # fmt: skip
    sa.Column("start", sa.String(16), nullable=True),  # None: the application was created
    sa.Column("finish", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("note", sa.String(2000), nullable=False),
)

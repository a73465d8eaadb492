"""Tables of the access pillar (SQLAlchemy Core; the same on SQLite and PostgreSQL).

They belong to the database layer's one MetaData; a change here needs a new revision in
``terrapole/migrations/versions`` (tests/test_db.py fails until the two agree).
"""

from __future__ import annotations

import sqlalchemy as sa

from terrapole.db import metadata

api_tokens = sa.Table(
    "tp_api_tokens",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("groups", sa.JSON, nullable=False),
    sa.Column("admin", sa.Boolean, nullable=False, default=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
)

collection_access = sa.Table(
    "tp_collection_access",
    metadata,
    sa.Column("collection_id", sa.String(256), primary_key=True),
    sa.Column("groups", sa.JSON, nullable=False),
)

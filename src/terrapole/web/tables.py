"""Tables of the web adapters (SQLAlchemy Core on the database layer's one MetaData).

A change here needs a new revision in ``terrapole/migrations/versions``.
"""

from __future__ import annotations

import sqlalchemy as sa

from terrapole.db import metadata

sessions = sa.Table(
    "tp_sessions",
    metadata,
    # the cookie's value is never stored, only its SHA-256
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(32), nullable=False, index=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
)

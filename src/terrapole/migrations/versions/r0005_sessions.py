"""Portal sessions: one row per signed-in browser (the cookie's hash, its user, its CSRF token).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the sessions table."""
    op.create_table(
        "tp_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        sa.Column("expires", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index("ix_tp_sessions_user_id", "tp_sessions", ["user_id"])


def downgrade() -> None:
    """Drop the sessions table."""
    op.drop_table("tp_sessions")

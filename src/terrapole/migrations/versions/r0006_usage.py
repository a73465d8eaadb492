"""Usage statistics: the daily rollup of searches, downloads and tile requests
(per day x kind x service x collection x profile x entity x user; no IP address).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the usage rollup table."""
    op.create_table(
        "tp_usage_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("collection", sa.String(length=256), nullable=False),
        sa.Column("profile", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("succeeded", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("km2", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "kind", "service", "collection", "profile", "entity_id", "user_id"
        ),
    )


def downgrade() -> None:
    """Drop the usage rollup table."""
    op.drop_table("tp_usage_daily")

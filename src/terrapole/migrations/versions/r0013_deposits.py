"""Long-tail deposits: deposits (one row per version, with access and the record describing
it), their files (content-addressed blobs) and upload sessions (tables ``tp_fair_deposit*``).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None

TABLES = ("tp_fair_deposits", "tp_fair_deposit_files", "tp_fair_deposit_uploads")
"""In creation order (a table after those it refers to)."""

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the deposit tables and their indexes."""
    op.create_table(
        "tp_fair_deposits",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("concept_id", sa.String(length=32), nullable=False),
        sa.Column("version_no", sa.Integer(), nullable=False),
        sa.Column("previous_id", sa.String(length=32), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=2000), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("access", sa.String(length=16), nullable=False),
        sa.Column("embargo_until", sa.Date(), nullable=True),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("record_id", sa.String(length=32), nullable=False),
        sa.Column("created", _TZ, nullable=False),
        sa.Column("updated", _TZ, nullable=False),
        sa.Column("published", _TZ, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id"),
    )
    for column in ("concept_id", "owner"):
        op.create_index(f"ix_tp_fair_deposits_{column}", "tp_fair_deposits", [column])
    op.create_table(
        "tp_fair_deposit_files",
        sa.Column("deposit_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("format", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("preview_key", sa.String(length=300), nullable=True),
        sa.Column("added", _TZ, nullable=False),
        sa.ForeignKeyConstraint(["deposit_id"], ["tp_fair_deposits.id"]),
        sa.PrimaryKeyConstraint("deposit_id", "name"),
    )
    op.create_index("ix_tp_fair_deposit_files_sha256", "tp_fair_deposit_files", ["sha256"])
    op.create_table(
        "tp_fair_deposit_uploads",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("deposit_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("md5", sa.String(length=32), nullable=True),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("created", _TZ, nullable=False),
        sa.ForeignKeyConstraint(["deposit_id"], ["tp_fair_deposits.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tp_fair_deposit_uploads_deposit_id", "tp_fair_deposit_uploads",
                    ["deposit_id"])  # fmt: skip


def downgrade() -> None:
    """Drop the deposit tables (their indexes go with them)."""
    for name in reversed(TABLES):
        op.drop_table(name)

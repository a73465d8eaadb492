"""FAIR records: records (one row per version of a resource, with its state, metadata JSON,
identifier and concept id), their published metadata kept immutable, review comments and
history (tables ``tp_fair_*``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

TABLES = ("tp_fair_records", "tp_fair_record_versions", "tp_fair_record_comments",
          "tp_fair_record_history")  # fmt: skip
"""In creation order (a table after those it refers to)."""

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the FAIR records tables and their indexes."""
    op.create_table(
        "tp_fair_records",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("concept_id", sa.String(length=32), nullable=False),
        sa.Column("version_no", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=2000), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("identifier", sa.String(length=300), nullable=True),
        sa.Column("source_kind", sa.String(length=32), nullable=True),
        sa.Column("source_id", sa.String(length=256), nullable=True),
        sa.Column("previous_id", sa.String(length=32), nullable=True),
        sa.Column("created", _TZ, nullable=False),
        sa.Column("updated", _TZ, nullable=False),
        sa.Column("published", _TZ, nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("identifier"),
    )
    for column in ("concept_id", "state", "owner", "updated"):
        op.create_index(f"ix_tp_fair_records_{column}", "tp_fair_records", [column])
    op.create_index("ix_tp_fair_records_source", "tp_fair_records", ["source_kind", "source_id"])
    op.create_table(
        "tp_fair_record_versions",
        sa.Column("record_id", sa.String(length=32), nullable=False),
        sa.Column("identifier", sa.String(length=300), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("published", _TZ, nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["tp_fair_records.id"]),
        sa.PrimaryKeyConstraint("record_id"),
    )
    op.create_table(
        "tp_fair_record_comments",
        sa.Column("n", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_id", sa.String(length=32), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("field", sa.String(length=300), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", _TZ, nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["tp_fair_records.id"]),
        sa.PrimaryKeyConstraint("n"),
    )
    op.create_index("ix_tp_fair_record_comments_record_id", "tp_fair_record_comments",
                    ["record_id"])  # fmt: skip
    op.create_table(
        "tp_fair_record_history",
        sa.Column("n", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_id", sa.String(length=32), nullable=False),
        sa.Column("start", sa.String(length=16), nullable=True),
        sa.Column("finish", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", _TZ, nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["tp_fair_records.id"]),
        sa.PrimaryKeyConstraint("n"),
    )
    op.create_index("ix_tp_fair_record_history_record_id", "tp_fair_record_history",
                    ["record_id"])  # fmt: skip


def downgrade() -> None:
    """Drop the FAIR records tables (their indexes go with them)."""
    for name in reversed(TABLES):
        op.drop_table(name)

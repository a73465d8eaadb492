"""FAIR pillar: the Scientific Expertise Consortia (CES) directory, their products and
services, and the calls for projects with their applications, reviews and history (tables
``tp_ces_*`` and ``tp_call*``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None

TABLES = (
    "tp_ces_consortia", "tp_ces_offers", "tp_ces_history", "tp_calls", "tp_call_applications",
    "tp_call_reviews", "tp_call_history",
)  # fmt: skip
"""In creation order (a table after those it refers to)."""

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the CES and calls tables and their indexes."""
    op.create_table(
        "tp_ces_consortia",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("acronym", sa.String(32), nullable=False),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("url", sa.String(2000), nullable=True),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("updated", _WHEN, nullable=False),
    )
    op.create_table(
        "tp_ces_offers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("ces_id", sa.String(64), sa.ForeignKey("tp_ces_consortia.id"), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("trl", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("collections", sa.JSON(), nullable=False),
        sa.Column("urls", sa.JSON(), nullable=False),
        sa.Column("updated", _WHEN, nullable=False),
    )
    op.create_index("ix_tp_ces_offers_ces_id", "tp_ces_offers", ["ces_id"])
    op.create_table(
        "tp_ces_history",
        sa.Column("n", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.Column("record", sa.JSON(), nullable=True),
    )
    op.create_index("ix_tp_ces_history_target_id", "tp_ces_history", ["target_id"])
    op.create_table(
        "tp_calls",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("types", sa.JSON(), nullable=False),
        sa.Column("opens", sa.Date(), nullable=False),
        sa.Column("closes", sa.Date(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
    )
    op.create_table(
        "tp_call_applications",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("call_id", sa.String(64), sa.ForeignKey("tp_calls.id"), nullable=False),
        sa.Column("applicant", sa.String(64), nullable=False),
        sa.Column("project", sa.String(300), nullable=False),
        sa.Column("ces_id", sa.String(64), sa.ForeignKey("tp_ces_consortia.id"), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("resources", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        sa.Column("submitted", _WHEN, nullable=True),
    )
    op.create_index("ix_tp_call_applications_call_id", "tp_call_applications", ["call_id"])
    op.create_index("ix_tp_call_applications_applicant", "tp_call_applications", ["applicant"])
    op.create_table(
        "tp_call_reviews",
        sa.Column(
            "application_id",
            sa.String(32),
            sa.ForeignKey("tp_call_applications.id"),
            primary_key=True,
        ),  # fmt: skip
        sa.Column("reviewer", sa.String(64), primary_key=True),
        sa.Column("assigned_by", sa.String(64), nullable=False),
        sa.Column("assigned", _WHEN, nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("reviewed", _WHEN, nullable=True),
    )
    op.create_table(
        "tp_call_history",
        sa.Column("n", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "application_id",
            sa.String(32),
            sa.ForeignKey("tp_call_applications.id"),
            nullable=False,
        ),  # fmt: skip
        sa.Column("start", sa.String(16), nullable=True),
        sa.Column("finish", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.Column("note", sa.String(2000), nullable=False),
    )
    op.create_index("ix_tp_call_history_application_id", "tp_call_history", ["application_id"])


def downgrade() -> None:
    """Drop the CES and calls tables (their rows are lost)."""
    for name in reversed(TABLES):
        op.drop_table(name)

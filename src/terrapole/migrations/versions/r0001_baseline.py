"""Baseline: the tables of jobs and access as the release before migrations made them.

That release had each service create its own tables when it first opened the database
(``create_all``), so a database it made holds all of these tables or some of them (a
``terrapole tokens create`` before any server start makes only the access ones). Each table
is created here only where the database lacks it: a table that exists is the same table, and
it is kept as it is, rows included. Later revisions change tables unconditionally.

Revision ID: 0001
Revises:
Create Date: 2025-06-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the tables the database lacks (parents before the tables that refer to them)."""
    have = set(sa.inspect(op.get_bind()).get_table_names())
    if "tp_api_tokens" not in have:
        op.create_table(
            "tp_api_tokens",
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("groups", sa.JSON(), nullable=False),
            sa.Column("admin", sa.Boolean(), nullable=False),
            sa.Column("created", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("name"),
            sa.UniqueConstraint("token_hash"),
        )
    if "tp_collection_access" not in have:
        op.create_table(
            "tp_collection_access",
            sa.Column("collection_id", sa.String(length=256), nullable=False),
            sa.Column("groups", sa.JSON(), nullable=False),
            sa.PrimaryKeyConstraint("collection_id"),
        )
    if "tp_credits" not in have:
        op.create_table(
            "tp_credits",
            sa.Column("owner", sa.String(length=200), nullable=False),
            sa.Column("credit_cpu_s", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("owner"),
        )
    if "tp_jobs" not in have:
        op.create_table(
            "tp_jobs",
            sa.Column("id", sa.String(length=64), nullable=False),
            sa.Column("process", sa.String(length=100), nullable=False),
            sa.Column("owner", sa.String(length=200), nullable=False),
            sa.Column("state", sa.String(length=20), nullable=False),
            sa.Column("stage", sa.String(length=100), nullable=False),
            sa.Column("progress", sa.Float(), nullable=False),
            sa.Column("inputs", sa.JSON(), nullable=False),
            sa.Column("outputs", sa.JSON(), nullable=False),
            sa.Column("estimate_cpu_s", sa.Float(), nullable=False),
            sa.Column("cpu_s", sa.Float(), nullable=False),
            sa.Column("reason", sa.Text(), nullable=True),
            sa.Column("created", sa.DateTime(timezone=True), nullable=False),
            sa.Column("started", sa.DateTime(timezone=True), nullable=True),
            sa.Column("finished", sa.DateTime(timezone=True), nullable=True),
            sa.Column("expires", sa.DateTime(timezone=True), nullable=True),
            sa.Column("purged", sa.Boolean(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_tp_jobs_owner", "tp_jobs", ["owner"])
        op.create_index("ix_tp_jobs_process", "tp_jobs", ["process"])
        op.create_index("ix_tp_jobs_state", "tp_jobs", ["state"])
    if "tp_job_logs" not in have:
        op.create_table(
            "tp_job_logs",
            sa.Column("n", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("job_id", sa.String(length=64), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("level", sa.String(length=10), nullable=False),
            sa.Column("message", sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(["job_id"], ["tp_jobs.id"]),
            sa.PrimaryKeyConstraint("n"),
        )
        op.create_index("ix_tp_job_logs_job_id", "tp_job_logs", ["job_id"])
    if "tp_openeo_jobs" not in have:
        op.create_table(
            "tp_openeo_jobs",
            sa.Column("id", sa.String(length=64), nullable=False),
            sa.Column("owner", sa.String(length=200), nullable=False),
            sa.Column("title", sa.Text(), nullable=True),
            sa.Column("description", sa.Text(), nullable=True),
            sa.Column("process", sa.JSON(), nullable=False),
            sa.Column("created", sa.DateTime(timezone=True), nullable=False),
            sa.Column("job_id", sa.String(length=64), nullable=True),
            sa.ForeignKeyConstraint(["job_id"], ["tp_jobs.id"]),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_tp_openeo_jobs_owner", "tp_openeo_jobs", ["owner"])


def downgrade() -> None:
    """Drop every table of the baseline (children first)."""
    for table in (
        "tp_openeo_jobs", "tp_job_logs", "tp_jobs", "tp_credits", "tp_collection_access",
        "tp_api_tokens",
    ):  # fmt: skip
        op.drop_table(table)

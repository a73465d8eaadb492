"""Tables of the jobs pillar (SQLAlchemy Core; the same on SQLite and PostgreSQL).

They belong to the database layer's one MetaData; a change here needs a new revision in
``terrapole/migrations/versions`` (tests/test_db.py fails until the two agree).
"""

from __future__ import annotations

import sqlalchemy as sa

from terrapole.db import metadata

jobs = sa.Table(
    "tp_jobs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("process", sa.String(100), nullable=False, index=True),
    sa.Column("owner", sa.String(200), nullable=False, index=True),
    sa.Column("state", sa.String(20), nullable=False, index=True),
    sa.Column("stage", sa.String(100), nullable=False, default=""),
    sa.Column("progress", sa.Float, nullable=False, default=0.0),
    sa.Column("inputs", sa.JSON, nullable=False),
    sa.Column("outputs", sa.JSON, nullable=False),
    sa.Column("estimate_cpu_s", sa.Float, nullable=False),
    sa.Column("cpu_s", sa.Float, nullable=False, default=0.0),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started", sa.DateTime(timezone=True), nullable=True),
    sa.Column("finished", sa.DateTime(timezone=True), nullable=True),
    sa.Column("expires", sa.DateTime(timezone=True), nullable=True),
    sa.Column("purged", sa.Boolean, nullable=False, default=False),
)

job_logs = sa.Table(
    "tp_job_logs",
    metadata,
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.String(64), sa.ForeignKey("tp_jobs.id"), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("level", sa.String(10), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
)

credits = sa.Table(
    "tp_credits",
    metadata,
    sa.Column("owner", sa.String(200), primary_key=True),
    sa.Column("credit_cpu_s", sa.Float, nullable=False),
)

openeo_jobs = sa.Table(
    "tp_openeo_jobs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(200), nullable=False, index=True),
    sa.Column("title", sa.Text, nullable=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("process", sa.JSON, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("job_id", sa.String(64), sa.ForeignKey("tp_jobs.id"), nullable=True),
)

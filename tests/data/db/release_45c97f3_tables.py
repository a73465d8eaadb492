"""The tables of terrapole 45c97f3, the last release before migrations, frozen here as it had them.

Copied unchanged (``git show 45c97f3:src/terrapole/jobs/tables.py`` and ``.../access/tables.py``)
but for the two MetaData names: that release created each set with ``create_all`` when its
service opened the database. Tests build a database of that release with them on any backend.
"""

from __future__ import annotations

import sqlalchemy as sa

# -- src/terrapole/jobs/tables.py at 45c97f3 ------------------------------------------------------
jobs_metadata = sa.MetaData()

jobs = sa.Table(
    "tp_jobs",
    jobs_metadata,
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
    jobs_metadata,
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.String(64), sa.ForeignKey("tp_jobs.id"), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("level", sa.String(10), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
)

credits = sa.Table(
    "tp_credits",
    jobs_metadata,
    sa.Column("owner", sa.String(200), primary_key=True),
    sa.Column("credit_cpu_s", sa.Float, nullable=False),
)

openeo_jobs = sa.Table(
    "tp_openeo_jobs",
    jobs_metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(200), nullable=False, index=True),
    sa.Column("title", sa.Text, nullable=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("process", sa.JSON, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("job_id", sa.String(64), sa.ForeignKey("tp_jobs.id"), nullable=True),
)

# -- src/terrapole/access/tables.py at 45c97f3 ----------------------------------------------------

access_metadata = sa.MetaData()

api_tokens = sa.Table(
    "tp_api_tokens",
    access_metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("groups", sa.JSON, nullable=False),
    sa.Column("admin", sa.Boolean, nullable=False, default=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
)

collection_access = sa.Table(
    "tp_collection_access",
    access_metadata,
    sa.Column("collection_id", sa.String(256), primary_key=True),
    sa.Column("groups", sa.JSON, nullable=False),
)

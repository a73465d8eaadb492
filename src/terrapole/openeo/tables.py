"""Tables of the openEO layer: users' stored process graphs (user-defined processes).

They belong to the database layer's one MetaData; a change here needs a new revision in
``terrapole/migrations/versions`` (tests/test_db.py fails until the two agree).
"""

from __future__ import annotations

import sqlalchemy as sa

from terrapole.db import metadata

process_graphs = sa.Table(
    "tp_openeo_process_graphs",
    metadata,
    sa.Column("owner", sa.String(200), primary_key=True),
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("process", sa.JSON, nullable=False),
    sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
)

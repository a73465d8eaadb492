"""Tables of the long-tail deposits (SQLAlchemy Core; the same on SQLite and PostgreSQL).

A deposit row is one version of a deposited dataset: its owner, state, access (open, embargoed
until a date, restricted to groups) and the metadata record that describes it. Its files are
rows pointing at content-addressed blobs in the storage (``deposits/blobs/<sha256>/data``), so
a new version lists the same blobs without copying them, as hard links would. An upload
session holds a file while its chunks arrive. Revision 0013 made these tables.
"""

from __future__ import annotations

import sqlalchemy as sa

from terrapole.db import metadata

_TZ = sa.DateTime(timezone=True)

deposits = sa.Table(
    "tp_fair_deposits",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("concept_id", sa.String(32), nullable=False, index=True),
    sa.Column("version_no", sa.Integer, nullable=False),
    sa.Column("previous_id", sa.String(32), nullable=True),
    sa.Column("owner", sa.String(200), nullable=False, index=True),
    sa.Column("title", sa.String(2000), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("access", sa.String(16), nullable=False),  # open | embargoed | restricted
    sa.Column("embargo_until", sa.Date, nullable=True),
    sa.Column("groups", sa.JSON, nullable=False),  # who reads a restricted deposit's files
    sa.Column("record_id", sa.String(32), nullable=False, unique=True),
    sa.Column("created", _TZ, nullable=False),
    sa.Column("updated", _TZ, nullable=False),
    sa.Column("published", _TZ, nullable=True),
)

deposit_files = sa.Table(
    "tp_fair_deposit_files",
    metadata,
    sa.Column("deposit_id", sa.String(32), sa.ForeignKey("tp_fair_deposits.id"), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("md5", sa.String(32), nullable=False),
    sa.Column("format", sa.String(200), nullable=False),
    sa.Column("key", sa.String(300), nullable=False),
    sa.Column("preview_key", sa.String(300), nullable=True),  # the COG a GeoTIFF is mapped from
    sa.Column("added", _TZ, nullable=False),
)

deposit_uploads = sa.Table(
    "tp_fair_deposit_uploads",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column(
        "deposit_id",
        sa.String(32),
        sa.ForeignKey("tp_fair_deposits.id"),
        nullable=False,
        index=True,
    ),  # fmt: skip
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=True),
    sa.Column("md5", sa.String(32), nullable=True),
    sa.Column("received", sa.BigInteger, nullable=False),
    sa.Column("created", _TZ, nullable=False),
)

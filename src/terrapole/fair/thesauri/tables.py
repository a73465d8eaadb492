"""Tables of imported SKOS thesauri (prefix ``tp_thes_``; SQLAlchemy Core, SQLite and
PostgreSQL alike). Revision 0011 creates them.

A scheme owns its concepts and collections; a concept owns its labels and relations. A
relation's target is a URI, not a row: SKOS files point at concepts of other vocabularies
(MMD's broader GCMD concepts), which stay links. Each label keeps its text folded
(:func:`terrapole.fair.thesauri.model.fold`) in an indexed column that search compares.
"""

from __future__ import annotations

import sqlalchemy as sa

from terrapole.db import metadata

URI = 1000
"""Longest URI kept (concept, scheme, collection, relation target)."""

schemes = sa.Table(
    "tp_thes_schemes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("uri", sa.String(URI), nullable=False, unique=True),
    sa.Column("titles", sa.JSON, nullable=False),  # {lang: title}
    sa.Column("languages", sa.JSON, nullable=False),  # [lang, ...] of its labels
    sa.Column("imported", sa.DateTime(timezone=True), nullable=False),
    sa.Column("source", sa.String(500), nullable=False),  # the file's name
    sa.Column("checksum", sa.String(64), nullable=False),  # the file's SHA-256
    sa.Column("concept_count", sa.Integer, nullable=False),
)

concepts = sa.Table(
    "tp_thes_concepts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scheme_id", sa.Integer, sa.ForeignKey("tp_thes_schemes.id"), nullable=False),
    sa.Column("uri", sa.String(URI), nullable=False, index=True),
    sa.Column("notation", sa.String(200), nullable=True),
    sa.Column("top", sa.Boolean, nullable=False),
    sa.Column("definitions", sa.JSON, nullable=False),  # {lang: text}
    sa.UniqueConstraint("scheme_id", "uri", name="uq_tp_thes_concepts_scheme_uri"),
)

labels = sa.Table(
    "tp_thes_labels",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "concept_id", sa.Integer, sa.ForeignKey("tp_thes_concepts.id"), nullable=False,
        index=True,
    ),
    sa.Column("kind", sa.String(8), nullable=False),  # pref, alt, hidden
    sa.Column("lang", sa.String(16), nullable=False),  # "" when untagged
    sa.Column("text", sa.String(2000), nullable=False),
    sa.Column("folded", sa.String(2000), nullable=False, index=True),
)  # fmt: skip

relations = sa.Table(
    "tp_thes_relations",
    metadata,
    sa.Column("concept_id", sa.Integer, sa.ForeignKey("tp_thes_concepts.id"), primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),  # broader, narrower, related
    sa.Column("target", sa.String(URI), primary_key=True),
)

collections = sa.Table(
    "tp_thes_collections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scheme_id", sa.Integer, sa.ForeignKey("tp_thes_schemes.id"), nullable=False),
    sa.Column("uri", sa.String(URI), nullable=False),
    sa.Column("labels", sa.JSON, nullable=False),  # {lang: prefLabel}
    sa.UniqueConstraint("scheme_id", "uri", name="uq_tp_thes_collections_scheme_uri"),
)

members = sa.Table(
    "tp_thes_members",
    metadata,
    sa.Column(
        "collection_id", sa.Integer, sa.ForeignKey("tp_thes_collections.id"), primary_key=True
    ),
    sa.Column("member", sa.String(URI), primary_key=True),
)

TABLES = (schemes, concepts, labels, relations, collections, members)
"""In creation order (a table after those it refers to)."""

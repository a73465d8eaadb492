"""Thesauri: imported SKOS concept schemes, their concepts, labels (with the folded text search
compares, indexed), relations, collections and collection members (tables ``tp_thes_*``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

TABLES = (
    "tp_thes_schemes", "tp_thes_concepts", "tp_thes_labels", "tp_thes_relations",
    "tp_thes_collections", "tp_thes_members",
)  # fmt: skip
"""In creation order (a table after those it refers to)."""
_URI = sa.String(length=1000)


def upgrade() -> None:
    """Create the thesaurus tables and their indexes."""
    op.create_table(
        "tp_thes_schemes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uri", _URI, nullable=False),
        sa.Column("titles", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("imported", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("concept_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uri"),
    )
    op.create_table(
        "tp_thes_concepts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("uri", _URI, nullable=False),
        sa.Column("notation", sa.String(length=200), nullable=True),
        sa.Column("top", sa.Boolean(), nullable=False),
        sa.Column("definitions", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["scheme_id"], ["tp_thes_schemes.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scheme_id", "uri", name="uq_tp_thes_concepts_scheme_uri"),
    )
    op.create_index("ix_tp_thes_concepts_uri", "tp_thes_concepts", ["uri"])
    op.create_table(
        "tp_thes_labels",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("concept_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column("folded", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(["concept_id"], ["tp_thes_concepts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tp_thes_labels_concept_id", "tp_thes_labels", ["concept_id"])
    op.create_index("ix_tp_thes_labels_folded", "tp_thes_labels", ["folded"])
    op.create_table(
        "tp_thes_relations",
        sa.Column("concept_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("target", _URI, nullable=False),
        sa.ForeignKeyConstraint(["concept_id"], ["tp_thes_concepts.id"]),
        sa.PrimaryKeyConstraint("concept_id", "kind", "target"),
    )
    op.create_table(
        "tp_thes_collections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("uri", _URI, nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["scheme_id"], ["tp_thes_schemes.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scheme_id", "uri", name="uq_tp_thes_collections_scheme_uri"),
    )
    op.create_table(
        "tp_thes_members",
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("member", _URI, nullable=False),
        sa.ForeignKeyConstraint(["collection_id"], ["tp_thes_collections.id"]),
        sa.PrimaryKeyConstraint("collection_id", "member"),
    )


def downgrade() -> None:
    """Drop the thesaurus tables (their indexes go with them)."""
    for name in reversed(TABLES):
        op.drop_table(name)

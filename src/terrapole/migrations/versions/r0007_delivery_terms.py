"""Delivery terms: a collection's declared terms may name the entities whose members alone (with
admins) read it, as the collections that orders are delivered into do.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the entities column to the collection terms (NULL: no entity restriction)."""
    with op.batch_alter_table("tp_collection_terms") as table:
        table.add_column(sa.Column("entities", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop the entities column."""
    with op.batch_alter_table("tp_collection_terms") as table:
        table.drop_column("entities")

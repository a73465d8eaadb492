"""openEO user-defined processes: each user's stored process graphs, keyed by (owner, id).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the table of user-defined processes."""
    op.create_table(
        "tp_openeo_process_graphs",
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("process", sa.JSON(), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner", "id"),
    )


def downgrade() -> None:
    """Drop the table of user-defined processes."""
    op.drop_table("tp_openeo_process_graphs")

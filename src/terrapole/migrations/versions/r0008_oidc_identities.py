"""OpenID Connect login: provider identities linked to accounts, and logins under way.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the identities and pending-logins tables."""
    op.create_table(
        "tp_oidc_identities",
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("created", _WHEN, nullable=False),
        sa.Column("last_login", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["tp_users.id"]),
        sa.PrimaryKeyConstraint("issuer", "subject"),
    )
    op.create_index("ix_tp_oidc_identities_user_id", "tp_oidc_identities", ["user_id"])
    op.create_table(
        "tp_oidc_logins",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2000), nullable=False),
        sa.Column("next", sa.String(length=2000), nullable=False),
        sa.Column("expires", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("state_hash"),
    )
    op.create_index("ix_tp_oidc_logins_expires", "tp_oidc_logins", ["expires"])


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("tp_oidc_logins")
    op.drop_table("tp_oidc_identities")

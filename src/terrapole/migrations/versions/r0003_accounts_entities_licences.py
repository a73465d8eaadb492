"""Accounts, entities, charter and licences: users and their mailed links, failed logins, the
owners of API tokens, entities with their members and history, licences by version with their
acceptances, and the terms a collection declares.

API tokens made before accounts keep working: ownership is a table of its own, and a token
without a row there is a token of the deployment, as before.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the tables (parents before the tables that refer to them)."""
    op.create_table(
        "tp_users",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("email_key", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email_key"),
    )
    op.create_table(
        "tp_account_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        sa.Column("expires", _WHEN, nullable=False),
        sa.Column("used", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["tp_users.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_tp_account_links_user_id", "tp_account_links", ["user_id"])
    op.create_table(
        "tp_login_failures",
        sa.Column("n", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email_key", sa.String(length=320), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("n"),
    )
    op.create_index("ix_tp_login_failures_email_key", "tp_login_failures", ["email_key"])
    op.create_index("ix_tp_login_failures_address", "tp_login_failures", ["address"])
    op.create_table(
        "tp_token_owners",
        sa.Column("token_name", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["token_name"], ["tp_api_tokens.name"]),
        sa.ForeignKeyConstraint(["user_id"], ["tp_users.id"]),
        sa.PrimaryKeyConstraint("token_name"),
    )
    op.create_index("ix_tp_token_owners_user_id", "tp_token_owners", ["user_id"])
    op.create_table(
        "tp_entities",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("siren", sa.String(length=9), nullable=True),
        sa.Column("ror", sa.String(length=9), nullable=True),
        sa.Column("profile", sa.String(length=32), nullable=False),
        sa.Column("referent_id", sa.String(length=32), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(["referent_id"], ["tp_users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "tp_memberships",
        sa.Column("entity_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("profile", sa.String(length=32), nullable=True),
        sa.Column("requested", _WHEN, nullable=False),
        sa.Column("decided", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(["entity_id"], ["tp_entities.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["tp_users.id"]),
        sa.PrimaryKeyConstraint("entity_id", "user_id"),
    )
    op.create_table(
        "tp_entity_events",
        sa.Column("n", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity_id", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("n"),
    )
    op.create_index("ix_tp_entity_events_entity_id", "tp_entity_events", ["entity_id"])
    op.create_table(
        "tp_licences",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "tp_licence_versions",
        sa.Column("licence_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("published", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(["licence_id"], ["tp_licences.id"]),
        sa.PrimaryKeyConstraint("licence_id", "version"),
    )
    op.create_table(
        "tp_licence_acceptances",
        sa.Column("n", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("licence_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("holder_kind", sa.String(length=8), nullable=False),
        sa.Column("holder_id", sa.String(length=32), nullable=False),
        sa.Column("accepted_by", sa.String(length=32), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(["licence_id"], ["tp_licences.id"]),
        sa.PrimaryKeyConstraint("n"),
    )
    op.create_index(
        "ix_tp_licence_acceptances_holder",
        "tp_licence_acceptances",
        ["holder_kind", "holder_id", "licence_id"],
    )
    op.create_table(
        "tp_collection_terms",
        sa.Column("collection_id", sa.String(length=256), nullable=False),
        sa.Column("licences", sa.JSON(), nullable=False),
        sa.Column("profiles", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("collection_id"),
    )


def downgrade() -> None:
    """Drop the tables (children before their parents)."""
    for table in (
        "tp_collection_terms", "tp_licence_acceptances", "tp_licence_versions", "tp_licences",
        "tp_entity_events", "tp_memberships", "tp_entities", "tp_token_owners",
        "tp_login_failures", "tp_account_links", "tp_users",
    ):  # fmt: skip
        op.drop_table(table)

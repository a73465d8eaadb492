"""Quotas and orders: a balance row per (entity, quota family, quarter), the ledger of debits
and credits, archive orders and tasking requests with the history of their transitions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the quota and order tables (orders before their history)."""
    op.create_table(
        "tp_quota_balances",
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("allowance_km2", sa.Float(), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("entity_id", "family", "period"),
    )
    op.create_table(
        "tp_quota_ledger",
        sa.Column("n", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("entry", sa.String(length=8), nullable=False),
        sa.Column("km2", sa.Float(), nullable=False),
        sa.Column("overage_km2", sa.Float(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("n"),
    )
    op.create_index("ix_tp_quota_ledger_order_id", "tp_quota_ledger", ["order_id"])
    op.create_index(
        "ix_tp_quota_ledger_quota", "tp_quota_ledger", ["entity_id", "family", "period"]
    )
    op.create_table(
        "tp_orders",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("profile", sa.String(length=32), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("aoi", sa.JSON(), nullable=True),
        sa.Column("km2", sa.Float(), nullable=False),
        sa.Column("quota_km2", sa.Float(), nullable=True),
        sa.Column("overage_km2", sa.Float(), nullable=True),
        sa.Column("price_eur", sa.Float(), nullable=True),
        sa.Column("created", _WHEN, nullable=False),
        sa.Column("updated", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tp_orders_state", "tp_orders", ["state"])
    op.create_index("ix_tp_orders_entity_id", "tp_orders", ["entity_id"])
    op.create_index("ix_tp_orders_owner", "tp_orders", ["owner"])
    op.create_table(
        "tp_order_history",
        sa.Column("n", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("start", sa.String(length=16), nullable=True),
        sa.Column("finish", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["tp_orders.id"]),
        sa.PrimaryKeyConstraint("n"),
    )
    op.create_index("ix_tp_order_history_order_id", "tp_order_history", ["order_id"])


def downgrade() -> None:
    """Drop the quota and order tables."""
    op.drop_table("tp_order_history")
    op.drop_table("tp_orders")
    op.drop_table("tp_quota_ledger")
    op.drop_table("tp_quota_balances")

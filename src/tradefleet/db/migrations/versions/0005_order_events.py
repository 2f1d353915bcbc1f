"""Every step of a live order's life, stored: intent, sent, open, partly filled, filled,
cancelled, rejected, expired (``order_events``); ``orders.status`` widens to hold
"partly_filled".

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tradefleet.db.types import UtcDateTime

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _widen_status(to: int, was: int) -> None:
    """PostgreSQL enforces a VARCHAR's length; SQLite ignores it, and its batch mode would
    copy the whole orders table for nothing (slow on a large file, at every start-up of
    an old database), so it is left alone there."""
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "orders", "status", type_=sa.String(to), existing_type=sa.String(was),
            existing_nullable=False,
        )  # fmt: skip


def upgrade() -> None:
    _widen_status(16, 12)
    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "order_id", sa.Integer(), sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
    )
    op.create_index("ix_order_events_order", "order_events", ["order_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_order_events_order", table_name="order_events")
    op.drop_table("order_events")
    _widen_status(12, 16)

"""Indexes for the lists that grow with history, in their keyset (cursor) order.

``GET /trades``, ``/positions``, ``/signals`` (and per bot) page newest first by
(time, id); without an index in that order each page sorted the whole table. The
per-bot indexes of fills and signals gain ``id`` (they replace the two-column ones), and
a deal's orders and fills are found by index (detail view, trades of one deal).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = [
    ("ix_positions_opened", "positions", ["opened_at", "id"]),
    ("ix_positions_bot_opened", "positions", ["bot_id", "opened_at", "id"]),
    ("ix_orders_position", "orders", ["position_id"]),
    ("ix_fills_time", "fills", ["time", "id"]),
    ("ix_fills_bot_time_id", "fills", ["bot_id", "time", "id"]),
    ("ix_fills_position", "fills", ["position_id"]),
    ("ix_fills_order", "fills", ["order_id"]),
    ("ix_signals_time", "signals", ["candle_time", "id"]),
    ("ix_signals_bot_time_id", "signals", ["bot_id", "candle_time", "id"]),
]
REPLACED = [
    ("ix_fills_bot_time", "fills", ["bot_id", "time"]),
    ("ix_signals_bot_time", "signals", ["bot_id", "candle_time"]),
]


def upgrade() -> None:
    for name, table, columns in NEW:
        op.create_index(name, table, columns, unique=False)
    for name, table, _ in REPLACED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, columns in REPLACED:
        op.create_index(name, table, columns, unique=False)
    for name, table, _ in reversed(NEW):
        op.drop_index(name, table_name=table)

"""Initial schema: bots, positions (deals), orders, fills, signals, paper balances, settings.

Money columns are NUMERIC(38, 18) on PostgreSQL and exact text on SQLite (see db/types.py).

Revision ID: 0001
Revises:
Create Date: 2026-11-24 04:12:21.196587
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tradefleet.db.types import Money, UtcDateTime

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("strategy_type", sa.String(length=50), nullable=False),
        sa.Column("strategy_config", sa.JSON(), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("timeframe", sa.String(length=8), nullable=False),
        sa.Column("budget", Money(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("last_signal_check", UtcDateTime(), nullable=True),
        sa.Column("last_candle_time", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_indicators", sa.JSON(), nullable=True),
        sa.Column("manager_state", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bots")),
        sa.UniqueConstraint("name", name=op.f("uq_bots_name")),
    )
    op.create_table(
        "paper_balances",
        sa.Column("currency", sa.String(length=12), nullable=False),
        sa.Column("total", Money(), nullable=False),
        sa.Column("hold", Money(), nullable=False),
        sa.Column("starting", Money(), nullable=False),
        sa.PrimaryKeyConstraint("currency", name=op.f("pk_paper_balances")),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "positions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("close_reason", sa.String(length=32), nullable=True),
        sa.Column("base_price", Money(), nullable=True),
        sa.Column("base_amount", Money(), nullable=False),
        sa.Column("bought_base", Money(), nullable=False),
        sa.Column("bought_quote", Money(), nullable=False),
        sa.Column("buy_fees", Money(), nullable=False),
        sa.Column("sold_base", Money(), nullable=False),
        sa.Column("sold_quote", Money(), nullable=False),
        sa.Column("sell_fees", Money(), nullable=False),
        sa.Column("average_entry_price", Money(), nullable=True),
        sa.Column("safety_orders_filled", sa.Integer(), nullable=False),
        sa.Column("adds_filled", sa.Integer(), nullable=False),
        sa.Column("take_profit_price", Money(), nullable=True),
        sa.Column("stop_price", Money(), nullable=True),
        sa.Column("trailing_active", sa.Boolean(), nullable=False),
        sa.Column("trailing_peak", Money(), nullable=True),
        sa.Column("realized_pnl", Money(), nullable=True),
        sa.Column("grid_level", sa.Integer(), nullable=True),
        sa.Column("order_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_positions_bot_id_bots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_positions")),
        sa.UniqueConstraint("bot_id", "seq", name="uq_positions_bot_seq"),
    )
    op.create_index("ix_positions_bot_status", "positions", ["bot_id", "status"], unique=False)
    op.create_table(
        "signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("candle_time", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("price", Money(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_signals_bot_id_bots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signals")),
    )
    op.create_index("ix_signals_bot_time", "signals", ["bot_id", "candle_time"], unique=False)
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("exchange_order_id", sa.String(length=64), nullable=True),
        sa.Column("bot_id", sa.Integer(), nullable=True),
        sa.Column("position_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("order_type", sa.String(length=8), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("base_amount", Money(), nullable=True),
        sa.Column("quote_amount", Money(), nullable=True),
        sa.Column("limit_price", Money(), nullable=True),
        sa.Column("trigger_price", Money(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("active_from", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("filled_base", Money(), nullable=False),
        sa.Column("filled_quote", Money(), nullable=False),
        sa.Column("fee", Money(), nullable=False),
        sa.Column("reserved", Money(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_orders_bot_id_bots"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["positions.id"],
            name=op.f("fk_orders_position_id_positions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("client_order_id", name=op.f("uq_orders_client_order_id")),
    )
    op.create_index("ix_orders_bot_status", "orders", ["bot_id", "status"], unique=False)
    op.create_table(
        "fills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trade_id", sa.String(length=80), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=True),
        sa.Column("position_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("time", UtcDateTime(), nullable=False),
        sa.Column("price", Money(), nullable=False),
        sa.Column("base_amount", Money(), nullable=False),
        sa.Column("quote_amount", Money(), nullable=False),
        sa.Column("fee", Money(), nullable=False),
        sa.Column("fee_currency", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_fills_bot_id_bots"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_fills_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["positions.id"],
            name=op.f("fk_fills_position_id_positions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fills")),
        sa.UniqueConstraint("trade_id", name=op.f("uq_fills_trade_id")),
    )
    op.create_index("ix_fills_bot_time", "fills", ["bot_id", "time"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_fills_bot_time", table_name="fills")
    op.drop_table("fills")
    op.drop_index("ix_orders_bot_status", table_name="orders")
    op.drop_table("orders")
    op.drop_index("ix_signals_bot_time", table_name="signals")
    op.drop_table("signals")
    op.drop_index("ix_positions_bot_status", table_name="positions")
    op.drop_table("positions")
    op.drop_table("settings")
    op.drop_table("paper_balances")
    op.drop_table("bots")

"""``orders.cancel_requested_at``: a live order whose cancel the deal machine asked for
and the exchange has not confirmed yet. The deal machine no longer holds it (a restart
must not give it back), and the engine asks for the cancel again until it is confirmed.
``orders.told_at``: when the deal machine was told how a live order ended; one that
ended and was not told yet (a step interrupted between) is told after a restart.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 19:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tradefleet.db.types import UtcDateTime

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_requested_at", UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("told_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("told_at")
        batch_op.drop_column("cancel_requested_at")

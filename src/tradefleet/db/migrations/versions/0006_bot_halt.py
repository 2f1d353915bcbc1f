"""Emergency stop: ``bots.halted_at`` marks a bot halted by ``POST /api/emergency-stop``.

A halted bot places nothing (its resting orders were cancelled; only the emergency
sells it was asked for still fill) until a user starts it again, which clears it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tradefleet.db.types import UtcDateTime

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("halted_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bots", schema=None) as batch_op:
        batch_op.drop_column("halted_at")

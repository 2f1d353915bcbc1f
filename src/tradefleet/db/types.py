"""Column types that keep money exact on every backend.

SQLite has no decimal type (SQLAlchemy's Numeric would store a float there), so amounts
are stored as canonical decimal strings on SQLite and as NUMERIC on PostgreSQL. Both
backends keep the same 18 decimal places, so a value reads back identically on either.
Because SQLite holds text, never compare, sort or sum ``Money`` columns in SQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine

from tradefleet.money import canonical

MONEY_PLACES = 18
MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)
MONEY_INTEGER_DIGITS = 38 - MONEY_PLACES
MONEY_LIMIT = Decimal(10) ** MONEY_INTEGER_DIGITS  # NUMERIC(38, 18) holds less than this


def money_for_storage(value: Decimal) -> Decimal:
    """``value`` as NUMERIC(38, 18) stores it: 18 places, halves away from zero.

    PostgreSQL rounds extra places this way on its own; doing it here too keeps SQLite
    identical. Non-finite and out-of-range amounts are refused on both backends.
    """
    if value.is_finite() and value.adjusted() < MONEY_INTEGER_DIGITS:
        with localcontext() as context:
            context.prec = 2 * (MONEY_INTEGER_DIGITS + MONEY_PLACES)  # room for every digit
            rounded = value.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_UP)
        if rounded.copy_abs() < MONEY_LIMIT:  # copy_abs: abs() would round to 28 digits
            return canonical(rounded)
    raise ValueError(
        f"money must be finite and less than 1E+{MONEY_INTEGER_DIGITS} in size, got {value}"
    )


class Money(TypeDecorator[Decimal]):
    """A Decimal column: NUMERIC(38, 18) on PostgreSQL, exact text on SQLite."""

    impl = Numeric(38, 18)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(64))
        return dialect.type_descriptor(Numeric(38, 18, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money must be Decimal, got {type(value).__name__}")
        stored = money_for_storage(value)
        if dialect.name == "sqlite":
            return format(stored, "f")
        return stored

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return canonical(value if isinstance(value, Decimal) else Decimal(str(value)))


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

"""Keyset ("cursor") paging of the lists that grow with history, newest first.

Rows are ordered by (sort key desc, id desc): unique and stable, so a page is "the rows
after the last one the client saw" (``(key, id) < (cursor key, cursor id)``, which an
index on (key, id) answers without reading the skipped rows). Rows that arrive between
two requests neither shift nor repeat rows, as they do with ``offset``. The cursor is
``"<key>_<id>"``, the key an integer (a time as microseconds since the epoch); clients
treat it as opaque.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Integer, Select, func, literal, select, tuple_
from sqlalchemy.orm import Session

RowT = TypeVar("RowT")

CURSOR_PATTERN = r"^-?[0-9]{1,19}_[0-9]{1,10}$"  # [0-9]: \d takes any Unicode digit
INT32_MAX = 2_147_483_647  # Integer columns and row ids are 32-bit on PostgreSQL
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Page(Generic[RowT]):
    """One page; ``total`` counts every row matching the filters (not only after the
    cursor); ``next_cursor`` is None on the last page."""

    items: list[RowT]
    total: int
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class Cursor:
    key: int
    id: int

    def encode(self) -> str:
        return f"{self.key}_{self.id}"


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


def _moment(micros: int) -> datetime:
    try:
        return EPOCH + micros * MICROSECOND
    except OverflowError:
        raise ValueError("cursor time out of range") from None


def _int32(value: int) -> int:
    if not -INT32_MAX - 1 <= value <= INT32_MAX:
        raise ValueError("cursor key out of range")
    return value


@dataclass(frozen=True, slots=True)
class Keyset:
    """A list's order: ``key`` column desc, then ``id`` desc; ``to_int``/``from_int`` turn
    a key value into the cursor's integer and back (``from_int`` raises ValueError when
    the integer cannot be a key)."""

    key: Any
    id: Any
    to_int: Callable[[Any], int]
    from_int: Callable[[int], Any]

    def decode(self, text: str) -> Cursor:
        """The cursor ``text`` names; ValueError when it is not one of this list's."""
        if not re.fullmatch(CURSOR_PATTERN, text):
            raise ValueError("not a cursor this server gave")
        key, row_id = (int(part) for part in text.split("_"))
        if not 1 <= row_id <= INT32_MAX:
            raise ValueError("cursor id out of range")
        self.from_int(key)
        return Cursor(key, row_id)

    def after(self, cursor: Cursor) -> ColumnElement[bool]:
        """Rows that come after ``cursor``: a row-value comparison, an index range."""
        key = literal(self.from_int(cursor.key), type_=self.key.type)
        return tuple_(self.key, self.id) < tuple_(key, literal(cursor.id, type_=Integer()))

    def cursor_of(self, row: Any) -> Cursor:
        return Cursor(self.to_int(getattr(row, self.key.key)), getattr(row, self.id.key))


def time_keyset(key: Any, row_id: Any) -> Keyset:
    """Ordered by a UTC datetime column."""
    return Keyset(key, row_id, _micros, _moment)


def int_keyset(key: Any, row_id: Any) -> Keyset:
    """Ordered by a 32-bit integer column (a unix time, or the id itself)."""
    return Keyset(key, row_id, int, _int32)


def page(
    session: Session,
    query: Select[Any],
    keyset: Keyset,
    limit: int,
    *,
    offset: int = 0,
    cursor: Cursor | None = None,
) -> Page[Any]:
    """``limit`` rows of ``query`` (filters only, no order) after ``cursor``, then
    ``offset`` rows skipped; one row more is read to know whether a next page exists."""
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    ordered = query.order_by(keyset.key.desc(), keyset.id.desc())
    if cursor is not None:
        ordered = ordered.where(keyset.after(cursor))
    rows = list(session.scalars(ordered.limit(limit + 1).offset(offset)))
    more = len(rows) > limit
    items = rows[:limit]
    next_cursor = keyset.cursor_of(items[-1]).encode() if more and items else None
    return Page(items=items, total=total or 0, next_cursor=next_cursor)

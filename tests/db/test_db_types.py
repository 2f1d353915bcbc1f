"""Money and UtcDateTime columns: exact round trips on SQLite and PostgreSQL, bad input refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.db.models import PaperBalance, Setting

ROUND_TRIPS = [
    (Decimal("0.000000000000000001"), "0.000000000000000001"),
    (
        Decimal("12345678901234567890.123456789012345678"),
        "12345678901234567890.123456789012345678",
    ),
    (
        Decimal("-12345678901234567890.123456789012345678"),
        "-12345678901234567890.123456789012345678",
    ),
    (Decimal("0.1") + Decimal("0.2"), "0.3"),
    (Decimal("10"), "10"),
    (Decimal("1E+1"), "10"),
    (Decimal("10.500000"), "10.5"),
    (Decimal("0E-8"), "0"),
    (Decimal("99999999999999999999.999999999999999999"), "99999999999999999999.999999999999999999"),
]


def _store_total(factory: sessionmaker[Session], value: Decimal) -> None:
    with factory() as session:
        session.add(PaperBalance(currency="BTC", total=value))
        session.commit()


def _read_total(factory: sessionmaker[Session]) -> Decimal:
    with factory() as session:  # a new session: the value comes from the database
        return session.scalars(select(PaperBalance.total)).one()


@pytest.mark.parametrize(("value", "expected"), ROUND_TRIPS)
def test_money_round_trips_exactly(
    session_factory: sessionmaker[Session], value: Decimal, expected: str
) -> None:
    _store_total(session_factory, value)
    read = _read_total(session_factory)
    assert isinstance(read, Decimal)
    assert read.as_tuple() == Decimal(expected).as_tuple()  # same digits: "10", never "1E+1"


def test_money_is_stored_without_exponent_form(session_factory: sessionmaker[Session]) -> None:
    _store_total(session_factory, Decimal("1E+1"))
    with session_factory() as session:
        raw = session.execute(text("SELECT total FROM paper_balances")).scalar_one()
        if session.get_bind().dialect.name == "sqlite":
            assert raw == "10"
        else:
            assert raw == Decimal("10.000000000000000000")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("0.0000000000000000015"), "0.000000000000000002"),
        (Decimal("0.0000000000000000014999"), "0.000000000000000001"),
        (Decimal("-0.0000000000000000015"), "-0.000000000000000002"),
        (Decimal("1.0000000000000000004"), "1"),
    ],
)
def test_money_beyond_18_places_is_rounded_half_away_from_zero_on_both_backends(
    session_factory: sessionmaker[Session], value: Decimal, expected: str
) -> None:
    _store_total(session_factory, value)
    assert _read_total(session_factory).as_tuple() == Decimal(expected).as_tuple()


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (0.1, TypeError),
        (1, TypeError),
        ("0.1", TypeError),
        (Decimal("NaN"), ValueError),
        (Decimal("Infinity"), ValueError),
        (Decimal("1E+20"), ValueError),
        (Decimal("-1E+20"), ValueError),
        (Decimal("1E+50"), ValueError),
        (Decimal("99999999999999999999.9999999999999999995"), ValueError),  # rounds up to 1E+20
    ],
)
def test_money_refuses_floats_non_decimals_and_amounts_it_cannot_hold(
    db_session: Session, bad: object, error: type[Exception]
) -> None:
    db_session.add(PaperBalance(currency="BTC", total=bad))
    with pytest.raises(StatementError) as caught:
        db_session.flush()
    assert isinstance(caught.value.orig, error)


def _store_setting_time(factory: sessionmaker[Session], when: datetime) -> datetime:
    with factory() as session:
        session.add(Setting(key="k", value=1, updated_at=when))
        session.commit()
    with factory() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET TIME ZONE 'America/New_York'"))  # must not leak through
        return session.scalars(select(Setting.updated_at)).one()


def test_utc_datetime_reads_back_in_utc_with_microseconds(
    session_factory: sessionmaker[Session],
) -> None:
    when = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=UTC)
    read = _store_setting_time(session_factory, when)
    assert read == when
    assert read.tzinfo is UTC
    assert read.microsecond == 123456


def test_utc_datetime_converts_other_zones_to_utc(session_factory: sessionmaker[Session]) -> None:
    kolkata = timezone(timedelta(hours=5, minutes=30))
    read = _store_setting_time(session_factory, datetime(2024, 1, 1, 3, 0, tzinfo=kolkata))
    assert read.tzinfo is UTC
    assert (read.year, read.month, read.day, read.hour, read.minute) == (2023, 12, 31, 21, 30)


@pytest.mark.parametrize(
    ("bad", "error"),
    [(datetime(2024, 1, 1, 12, 0), ValueError), ("2024-01-01T12:00:00Z", TypeError)],
)
def test_utc_datetime_refuses_naive_datetimes_and_strings(
    db_session: Session, bad: object, error: type[Exception]
) -> None:
    db_session.add(Setting(key="k", value=1, updated_at=bad))
    with pytest.raises(StatementError) as caught:
        db_session.flush()
    assert isinstance(caught.value.orig, error)

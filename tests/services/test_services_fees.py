"""Run-time fees: the settings row overrides the env defaults, stored as decimal strings."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from tradefleet.config import Settings
from tradefleet.db.models import Setting
from tradefleet.domain import FeeSchedule
from tradefleet.services.errors import InvalidInputError
from tradefleet.services.fees import load_fees, save_fees


@pytest.fixture
def settings() -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        fee_taker=Decimal("0.005"),
        fee_maker=Decimal("0.004"),
        slippage=Decimal("0.0001"),
    )


def test_defaults_come_from_settings(db_session: Session, settings: Settings) -> None:
    assert load_fees(db_session, settings) == FeeSchedule(
        taker=Decimal("0.005"), maker=Decimal("0.004"), slippage=Decimal("0.0001")
    )


def test_saved_fees_win_and_are_strings(db_session: Session, settings: Settings) -> None:
    saved = save_fees(db_session, FeeSchedule(Decimal("0.0012"), Decimal("0.00060"), Decimal("0")))
    assert saved == FeeSchedule(Decimal("0.0012"), Decimal("0.0006"), Decimal("0"))
    row = db_session.get(Setting, "fees")
    assert row is not None
    assert row.value == {"taker": "0.0012", "maker": "0.0006", "slippage": "0"}
    assert load_fees(db_session, settings) == saved


def test_a_partly_stored_row_falls_back_per_field(db_session: Session, settings: Settings) -> None:
    db_session.add(Setting(key="fees", value={"maker": "0.001"}))
    db_session.commit()
    assert load_fees(db_session, settings) == FeeSchedule(
        taker=Decimal("0.005"), maker=Decimal("0.001"), slippage=Decimal("0.0001")
    )


def test_out_of_range_rates_are_refused_before_writing(db_session: Session) -> None:
    with pytest.raises(InvalidInputError) as caught:
        save_fees(db_session, FeeSchedule(Decimal("1"), Decimal("-0.1"), Decimal("0")))
    assert caught.value.problems == [
        ("fees.taker", "must be at least 0 and less than 1"),
        ("fees.maker", "must be at least 0 and less than 1"),
    ]
    assert db_session.get(Setting, "fees") is None


def test_a_corrupt_row_is_an_error_not_a_silent_default(
    db_session: Session, settings: Settings
) -> None:
    db_session.add(Setting(key="fees", value={"taker": "lots"}))
    db_session.commit()
    with pytest.raises(ValueError, match="taker is not a number"):
        load_fees(db_session, settings)

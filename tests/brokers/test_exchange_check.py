"""``check_exchange`` with the real ccxt client against the fake Coinbase, whose private
endpoints verify every request's JWT (``tests/fakes/coinbase_private.py``)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from pydantic import SecretStr
from tests.fakes.coinbase_private import FakeAccount, running_fake_account

from tradefleet.brokers.credentials import KeyKind
from tradefleet.brokers.exchange_check import Balance, CheckFailedError, check_exchange
from tradefleet.config import Settings


@pytest.fixture
async def account() -> AsyncIterator[FakeAccount]:
    async with running_fake_account() as account:
        account.set_balance("BTC", "0.5", "0.125")
        account.set_balance("ETH", "2")
        account.set_balance("USD", "0")
        yield account


def _settings(account: FakeAccount, name: str, secret: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        exchange_api_url=account.fake.url,
        api_key=SecretStr(name),
        api_secret=SecretStr(secret),
    )


@pytest.mark.parametrize("kind", [KeyKind.EC, KeyKind.ED25519])
async def test_a_working_key_shows_permissions_fees_and_balances(
    account: FakeAccount, kind: KeyKind, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    name, secret = account.add_ec_key() if kind is KeyKind.EC else account.add_ed25519_key()
    report = await check_exchange(_settings(account, name, secret), rate_limit=False)
    assert (report.key_name, report.key_kind) == (name, kind)
    assert abs(report.skew_seconds) < 2
    assert (report.can_view, report.can_trade, report.can_transfer) == (True, True, False)
    assert (report.fee_tier, report.taker_fee, report.maker_fee) == (
        "Advanced 1",
        Decimal("0.012"),
        Decimal("0.006"),
    )
    assert report.balances == [
        Balance("BTC", Decimal("0.5"), Decimal("0.125")),
        Balance("ETH", Decimal(2), Decimal(0)),
        Balance("USD", Decimal(0), Decimal(0)),
    ]
    assert report.balances[0].total == Decimal("0.625")
    assert (report.problems, report.warnings) == ([], [])
    # permissions, fee tier, two pages of accounts: each one signed and verified
    assert (account.verified, account.refusals) == (4, [])
    body = secret.splitlines()[1] if kind is KeyKind.EC else secret
    assert body not in caplog.text


async def test_an_unknown_key_name_is_refused_in_words(account: FakeAccount) -> None:
    _, pem = account.add_ec_key()
    stranger = "organizations/00000000-0000-4000-8000-000000000000/apiKeys/0000-0000"
    with pytest.raises(CheckFailedError, match=r"refused the key \(401 Unauthorized\)"):
        await check_exchange(_settings(account, stranger, pem), rate_limit=False)
    assert account.refusals == ["unknown kid"]


async def test_a_private_key_of_another_key_is_refused(account: FakeAccount) -> None:
    name, _ = account.add_ec_key()
    _, other_pem = account.add_ec_key()
    with pytest.raises(CheckFailedError, match="the private key is not this key's"):
        await check_exchange(_settings(account, name, other_pem), rate_limit=False)
    [refusal] = account.refusals
    assert refusal.startswith("JWT refused: InvalidSignatureError")


async def test_a_clock_far_off_is_named_as_the_cause(account: FakeAccount) -> None:
    name, pem = account.add_ec_key()
    account.offset = 300.0  # the exchange is 5 minutes ahead: the JWT expired on arrival
    with pytest.raises(CheckFailedError) as raised:
        await check_exchange(_settings(account, name, pem), rate_limit=False)
    message = str(raised.value)
    assert "clock is 300" in message and "behind the exchange's" in message
    assert account.refusals[0].startswith("outside its lifetime")


async def test_a_small_skew_is_a_warning_and_the_key_still_works(account: FakeAccount) -> None:
    name, pem = account.add_ec_key()
    account.offset = -10.0  # within the JWT's two minutes, but candle closes would be late
    report = await check_exchange(_settings(account, name, pem), rate_limit=False)
    assert -11 < report.skew_seconds < -9
    assert report.problems == []
    [warning] = report.warnings
    assert "ahead of the exchange's" in warning


async def test_a_key_that_cannot_trade_is_a_problem(account: FakeAccount) -> None:
    name, pem = account.add_ec_key(can_trade=False, can_transfer=True)
    report = await check_exchange(_settings(account, name, pem), rate_limit=False)
    assert report.problems == [
        "the key cannot trade: live bots need a key with the Trade permission"
    ]
    assert report.warnings == ["the key may transfer funds out; trading needs only View and Trade"]


async def test_no_key_and_an_unreachable_exchange_are_named(account: FakeAccount) -> None:
    bare = Settings(_env_file=None, exchange_api_url=account.fake.url)  # type: ignore[call-arg]
    with pytest.raises(CheckFailedError, match="no exchange key: set TRADEFLEET_API_KEY"):
        await check_exchange(bare, rate_limit=False)
    name, pem = account.add_ec_key()
    account.fake.fail(503, times=5, path="/time")
    with pytest.raises(CheckFailedError, match="could not reach the exchange at http://127"):
        await check_exchange(_settings(account, name, pem), rate_limit=False)

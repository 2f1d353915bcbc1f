"""``tradefleet check-exchange``: does the configured key work, and for what?

In the order that says the most when something is wrong: the key's form (checked here,
nothing sent), the exchange's clock (public: a clock more than a few seconds off makes
every signed request fail, whatever the key), the key's permissions (the first signed
request: a refusal here is the key itself), then the fee tier and the balances.

Every failure is a ``CheckFailedError`` whose message says what to do; none repeats the
private key.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ccxt.base import errors as ccxt_errors

from tradefleet.brokers.credentials import CredentialsError, KeyKind, load_credentials
from tradefleet.brokers.exchange_client import private_client
from tradefleet.config import Settings
from tradefleet.market.exchange import decimal_field
from tradefleet.money import ZERO
from tradefleet.redact import redact_text, said

SKEW_WARNING_SECONDS = 5.0  # worth fixing: the bots see candle closes that much off
SKEW_FATAL_SECONDS = 30.0  # a signed request (valid 120 s from "now") is likely refused
ACCOUNTS_PAGE = 250


class CheckFailedError(Exception):
    """The key cannot be used; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Balance:
    currency: str
    available: Decimal
    hold: Decimal

    @property
    def total(self) -> Decimal:
        return self.available + self.hold


@dataclass(slots=True)
class ExchangeReport:
    exchange: str
    url: str
    key_name: str
    key_kind: KeyKind
    skew_seconds: float  # the exchange's clock minus this machine's
    can_view: bool = False
    can_trade: bool = False
    can_transfer: bool = False
    portfolio: str = ""
    fee_tier: str = ""
    taker_fee: Decimal | None = None
    maker_fee: Decimal | None = None
    balances: list[Balance] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the key works, but not for trading


async def check_exchange(settings: Settings, *, rate_limit: bool = True) -> ExchangeReport:
    if settings.exchange != "coinbase":
        raise CheckFailedError(
            f"check-exchange knows Coinbase's key checks only; {settings.exchange} is untested"
        )
    try:
        credentials = load_credentials(settings)
    except CredentialsError as error:
        raise CheckFailedError(str(error)) from None
    if credentials is None:
        raise CheckFailedError(
            "no exchange key: set TRADEFLEET_API_KEY and TRADEFLEET_API_SECRET, or "
            "TRADEFLEET_API_KEY_FILE (the JSON file Coinbase offers when a key is created)"
        )
    client = private_client(
        settings.exchange, settings.exchange_api_url, credentials, rate_limit=rate_limit
    )
    url = redact_text(str(client.urls["api"]["rest"]))
    try:
        skew = await _clock_skew(client, url)
        report = ExchangeReport(settings.exchange, url, credentials.name, credentials.kind, skew)
        if abs(skew) > SKEW_WARNING_SECONDS:
            report.warnings.append(_skew_words(skew))
        await _permissions(client, report)
        await _fees(client, report)
        report.balances = await read_balances(client)
    finally:
        await client.close()
    return report


async def _clock_skew(client: Any, url: str) -> float:
    before = time.time()
    try:
        answer = await client.v3PublicGetBrokerageTime()
    except ccxt_errors.BaseError as error:
        raise CheckFailedError(f"could not reach the exchange at {url}: {said(error)}") from None
    after = time.time()
    try:
        exchange_now = int(answer["epochMillis"]) / 1000
    except (KeyError, TypeError, ValueError):
        raise CheckFailedError(f"{url} did not answer the time as Coinbase does") from None
    return exchange_now - (before + after) / 2


def _skew_words(skew: float) -> str:
    side = "ahead of" if skew < 0 else "behind"
    return f"this machine's clock is {abs(skew):.1f} s {side} the exchange's: set it right (NTP)"


async def _permissions(client: Any, report: ExchangeReport) -> None:
    try:
        answer = await client.v3PrivateGetBrokerageKeyPermissions()
    except ccxt_errors.AuthenticationError:
        if abs(report.skew_seconds) > SKEW_FATAL_SECONDS:
            raise CheckFailedError(
                f"the exchange refused the key, and {_skew_words(report.skew_seconds)}: a "
                "signed request is valid for two minutes from this machine's 'now'"
            ) from None
        raise CheckFailedError(
            "the exchange refused the key (401 Unauthorized): no key has this name, the "
            "private key is not this key's, or the key was deleted. Copy the name "
            "(organizations/…/apiKeys/…) and the private key again from Coinbase "
            "(Developer Platform → API keys)"
        ) from None
    except ccxt_errors.PermissionDenied:
        raise CheckFailedError(
            "the key may not even view the account (403): give it the View permission"
        ) from None
    except ccxt_errors.BaseError as error:
        raise CheckFailedError(f"could not read the key's permissions: {said(error)}") from None
    report.can_view = answer.get("can_view") is True
    report.can_trade = answer.get("can_trade") is True
    report.can_transfer = answer.get("can_transfer") is True
    report.portfolio = str(answer.get("portfolio_type") or "")
    if not report.can_view:
        report.problems.append("the key cannot view the account: give it the View permission")
    if not report.can_trade:
        report.problems.append(
            "the key cannot trade: live bots need a key with the Trade permission"
        )
    if report.can_transfer:
        report.warnings.append("the key may transfer funds out; trading needs only View and Trade")


async def read_fee_tier(client: Any) -> tuple[str, Decimal | None, Decimal | None]:
    """The account's fee tier: its name, the taker and the maker rate (None if unsaid)."""
    try:
        answer = await client.v3PrivateGetBrokerageTransactionSummary()
    except ccxt_errors.BaseError as error:
        raise CheckFailedError(f"could not read the fee tier: {said(error)}") from None
    tier = answer.get("fee_tier") or {}
    taker, maker = _amount(tier.get("taker_fee_rate")), _amount(tier.get("maker_fee_rate"))
    return str(tier.get("pricing_tier") or ""), taker, maker


async def _fees(client: Any, report: ExchangeReport) -> None:
    report.fee_tier, report.taker_fee, report.maker_fee = await read_fee_tier(client)
    if report.taker_fee is None or report.maker_fee is None:
        report.problems.append("the exchange did not say the account's fee rates")


async def read_balances(client: Any) -> list[Balance]:
    """Every currency of the account, with what resting orders hold (every page)."""
    balances: list[Balance] = []
    cursor = ""
    for _page in range(100):  # 25,000 accounts: far beyond any real one
        params: dict[str, Any] = {"limit": ACCOUNTS_PAGE}
        if cursor:
            params["cursor"] = cursor
        try:
            answer = await client.v3PrivateGetBrokerageAccounts(params)
        except ccxt_errors.BaseError as error:
            raise CheckFailedError(f"could not read the balances: {said(error)}") from None
        balances += [_balance(account) for account in answer.get("accounts") or []]
        cursor = str(answer.get("cursor") or "")
        if not answer.get("has_next") or not cursor:
            break
    return sorted(balances, key=lambda balance: balance.currency)


def _balance(account: dict[str, Any]) -> Balance:
    available = (account.get("available_balance") or {}).get("value")
    hold = (account.get("hold") or {}).get("value")
    return Balance(
        currency=str(account.get("currency") or "?"),
        available=_amount(available) or ZERO,
        hold=_amount(hold) or ZERO,
    )


def _amount(value: Any) -> Decimal | None:
    """The field as the market source reads it; a malformed one is unknown, not a crash."""
    try:
        return decimal_field(value)
    except (ArithmeticError, ValueError, TypeError):
        return None


async def trading_key_problems(client: Any) -> list[str]:
    """What keeps the key from trading (its permissions, in words a user can act on);
    raises ``CheckFailedError`` when the exchange refuses the key itself."""
    report = ExchangeReport("", "", "", KeyKind.EC, 0.0)
    await _permissions(client, report)
    return report.problems

"""The rules a bot's fields must follow, checked before anything is written.

Every check returns the problems it found as ``(field, message)`` pairs, so one rejected
request reports all of its bad fields at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tradefleet.domain import ProductSpec
from tradefleet.market.base import TIMEFRAMES
from tradefleet.money import canonical
from tradefleet.strategies import StrategyConfigError, StrategyRegistry, UnknownStrategyError

NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 2000
CONFIG_MAX_PARAMETERS = 100  # a strategy has about 25; more can only be a mistake or abuse
BUDGET_MAX_PLACES = 18  # the Money columns keep 18 decimals
BUDGET_LIMIT = Decimal(10) ** 20  # and hold less than 1E+20

Problems = list[tuple[str, str]]

# C0 and C1 control characters, DEL, and lone surrogates (which are not UTF-8 at all).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\t\n\r]")


def text_problem(text: str, *, line_breaks: bool = False) -> str | None:
    """Why ``text`` cannot be stored and shown as it is, or None.

    PostgreSQL refuses a NUL in any text (SQLite would keep it), other control
    characters hide in lists and logs, and a lone surrogate cannot be encoded at all. A
    free text (``line_breaks``) may hold tabs and line breaks. The message says where, not
    what: the text is never repeated.
    """
    found = _CONTROL.search(text) or (None if line_breaks else _LINE_BREAKS.search(text))
    if found is None:
        return None
    char = found.group()
    what = "a lone surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
    return f"must not contain {what} (U+{ord(char):04X} at position {found.start()})"


def clean_name(name: str) -> tuple[str, Problems]:
    """The name without surrounding blanks, and what is wrong with it."""
    cleaned = name.strip()
    if not 1 <= len(cleaned) <= NAME_MAX_LENGTH:
        return cleaned, [("name", f"must be 1 to {NAME_MAX_LENGTH} characters")]
    problem = text_problem(cleaned)
    return cleaned, [] if problem is None else [("name", problem)]


def description_problems(description: str) -> Problems:
    if len(description) > DESCRIPTION_MAX_LENGTH:
        return [("description", f"must be at most {DESCRIPTION_MAX_LENGTH} characters")]
    problem = text_problem(description, line_breaks=True)
    return [] if problem is None else [("description", problem)]


ACCOUNTS = ("paper", "live")
LIVE_OFF = (
    "live needs the server started with TRADEFLEET_MODE=live and working exchange keys "
    "(check them with tradefleet check-exchange); this server trades on paper"
)


def account_problems(account: str, live_problem: str | None = LIVE_OFF) -> Problems:
    """``paper`` always; ``live`` when ``live_problem`` is None: the server trades live
    with keys that work (else it says why not)."""
    if account not in ACCOUNTS:
        return [("account", f"must be one of: {', '.join(ACCOUNTS)}")]
    if account == "live" and live_problem is not None:
        return [("account", live_problem)]
    return []


def timeframe_problems(timeframe: str) -> Problems:
    if timeframe not in TIMEFRAMES:
        return [("timeframe", f"must be one of: {', '.join(TIMEFRAMES)}")]
    return []


def product_problems(product_id: str, product: ProductSpec | None) -> Problems:
    """``product`` is what the market knows under ``product_id`` (None: nothing)."""
    if product is None or product.product_id != product_id:
        return [("product_id", f"unknown product {product_id!r}")]
    return []


def budget_problems(budget: Decimal) -> Problems:
    if not budget.is_finite() or budget <= 0:
        return [("budget", "must be a number greater than 0")]
    if budget >= BUDGET_LIMIT:
        return [("budget", "is too large")]
    exponent = canonical(budget).as_tuple().exponent
    if isinstance(exponent, int) and exponent < -BUDGET_MAX_PLACES:
        return [("budget", f"must have at most {BUDGET_MAX_PLACES} decimal places")]
    return []


def strategy_config_problems(
    strategy_type: str, config: Mapping[str, Any], budget: Decimal | None
) -> tuple[dict[str, Any], Problems]:
    """The config with defaults filled in, and its problems.

    ``budget`` (None when it is itself invalid) is also run through the strategy's
    ``deal_settings`` so budget-dependent rules (an order below the minimum, ...) surface now
    rather than when the bot first trades.
    """
    try:
        strategy = StrategyRegistry.get(strategy_type)
    except UnknownStrategyError as error:
        return {}, [("strategy_type", error.message)]
    try:
        values = strategy.validate_config(config)
    except StrategyConfigError as error:
        return {}, [(_config_field(e["field"]), e["message"]) for e in error.errors]
    if budget is None:
        return values, []
    try:
        strategy(values).deal_settings(budget)
    except StrategyConfigError as error:
        return {}, [(_deal_field(e["field"]), e["message"]) for e in error.errors]
    return values, []


def _config_field(field: str) -> str:
    """A strategy's field name as a path in the bot: ``"strategy_config.rsi_period"``."""
    if field in ("", "config"):
        return "strategy_config"
    return f"strategy_config.{field}"


def _deal_field(field: str) -> str:
    return "budget" if field == "budget" else _config_field(field)

"""``tradefleet.stats``: every figure worked out by hand on a small set of deals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tradefleet.stats import (
    BotStats,
    QuoteTotals,
    bot_stats,
    max_drawdown_pct,
    quote_currency_of,
    totals_by_quote,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
ZERO = Decimal(0)


@dataclass(frozen=True)
class Deal:
    status: str
    opened_at: datetime
    closed_at: datetime | None = None
    product_id: str = "ETH-BTC"
    base_amount: Decimal = ZERO
    bought_quote: Decimal = ZERO
    buy_fees: Decimal = ZERO
    sold_quote: Decimal = ZERO
    sell_fees: Decimal = ZERO
    realized_pnl: Decimal | None = None


def d(text: str) -> Decimal:
    return Decimal(text)


# +0.00896 = 0.11 - 0.00044 - 0.1 - 0.0006 (stored)
WIN = Deal(
    "closed",
    T0,
    T0 + H,
    bought_quote=d("0.1"),
    buy_fees=d("0.0006"),
    sold_quote=d("0.11"),
    sell_fees=d("0.00044"),
    realized_pnl=d("0.00896"),
)
# -0.02192 = 0.18 - 0.00072 - 0.2 - 0.0012 (computed: the column is empty)
LOSS = Deal(
    "closed",
    T0 + 2 * H,
    T0 + 2.5 * H,
    bought_quote=d("0.2"),
    buy_fees=d("0.0012"),
    sold_quote=d("0.18"),
    sell_fees=d("0.00072"),
)
# +0.005 = 0.0556 - 0.0003 - 0.05 - 0.0003; it kept 0.00004 ETH of dust (a live buy)
SMALL_WIN = Deal(
    "closed",
    T0 + 3 * H,
    T0 + 5 * H,
    base_amount=d("0.00004"),
    bought_quote=d("0.05"),
    buy_fees=d("0.0003"),
    sold_quote=d("0.0556"),
    sell_fees=d("0.0003"),
    realized_pnl=d("0.005"),
)
# holds 1 ETH that cost 0.048 + 0.000288 fee
OPEN = Deal("open", T0 + 6 * H, base_amount=d("1"), bought_quote=d("0.048"), buy_fees=d("0.000288"))


def test_every_figure_of_a_bot_with_three_closed_and_one_open_deal() -> None:
    # Closed deals are given out of closing order: the curve must sort them.
    deals = [SMALL_WIN, OPEN, LOSS, WIN]
    stats = bot_stats(d("1"), "BTC", deals, {"ETH-BTC": d("0.052")})
    assert stats == BotStats(
        quote_currency="BTC",
        budget=d("1"),
        open_deals=1,
        closed_deals=3,
        realized_pnl=d("-0.00796"),  # 0.00896 - 0.02192 + 0.005
        realized_pnl_pct=d("-0.796"),  # of a budget of 1
        unrealized_pnl=d("0.003712"),  # 1 x 0.052 - 0.048288
        win_rate_pct=d("66.6667"),  # 2 of 3, half up at 4 places
        average_deal_pnl=d("-0.002653333333"),  # -0.00796 / 3 at 12 places
        average_deal_seconds=4200,  # (3600 + 1800 + 7200) / 3
        fees_paid=d("0.003848"),  # 0.00104 + 0.00192 + 0.0006 + 0.000288
        # equity 1 -> 1.00896 (peak) -> 0.98704 -> 0.99204; 0.02192 / 1.00896 = 2.17253...%
        max_drawdown_pct=d("2.1725"),
        funds_in_use=d("0.048288"),
        budget_available=d("0.99204"),  # the budget of 1 less the realised loss 0.00796
        budget_free=d("0.943752"),  # 0.99204 - 0.048288
        dust={"ETH": d("0.00004")},  # the open deal's 1 ETH is a holding, not dust
    )


def test_no_deals_at_all() -> None:
    stats = bot_stats(d("250"), "USD", [], {})
    assert (stats.realized_pnl, stats.realized_pnl_pct, stats.unrealized_pnl) == (ZERO, ZERO, ZERO)
    assert (stats.win_rate_pct, stats.average_deal_pnl, stats.average_deal_seconds) == (
        None,
        None,
        None,
    )
    assert (stats.max_drawdown_pct, stats.fees_paid, stats.funds_in_use) == (ZERO, ZERO, ZERO)


def test_unrealized_is_unknown_without_a_last_price() -> None:
    stats = bot_stats(d("1"), "BTC", [OPEN, WIN], {"BTC-USD": d("60000")})
    assert stats.unrealized_pnl is None
    assert stats.realized_pnl == d("0.00896")


def test_an_open_deal_with_a_partial_sell_counts_its_net_cost() -> None:
    partial = Deal(
        "open",
        T0,
        base_amount=d("1"),
        bought_quote=d("0.1"),
        buy_fees=d("0.0006"),
        sold_quote=d("0.055"),
        sell_fees=d("0.00022"),
    )
    stats = bot_stats(d("1"), "BTC", [partial], {"ETH-BTC": d("0.06")})
    assert stats.funds_in_use == d("0.04582")  # 0.1 + 0.0006 - 0.055 + 0.00022
    assert stats.unrealized_pnl == d("0.01418")  # 0.06 - 0.04582
    assert stats.fees_paid == d("0.00082")


def test_drawdown_from_the_budget_when_every_deal_loses() -> None:
    losses = [
        Deal("closed", T0, T0 + H, realized_pnl=d("-0.1")),
        Deal("closed", T0, T0 + 2 * H, realized_pnl=d("-0.1")),
    ]
    assert max_drawdown_pct(d("1"), losses) == d("20")  # 1 -> 0.8


def test_drawdown_is_measured_from_a_later_higher_peak() -> None:
    deals = [
        Deal("closed", T0, T0 + H, realized_pnl=d("-10")),  # 100 -> 90: 10 %
        Deal("closed", T0, T0 + 2 * H, realized_pnl=d("30")),  # 120: new peak
        Deal("closed", T0, T0 + 3 * H, realized_pnl=d("-18")),  # 102: 18 / 120 = 15 %
    ]
    assert max_drawdown_pct(d("100"), deals) == d("15")


def test_average_duration_rounds_half_up_to_whole_seconds() -> None:
    deals = [
        Deal("closed", T0, T0 + timedelta(seconds=1), realized_pnl=ZERO),
        Deal("closed", T0, T0 + timedelta(seconds=2), realized_pnl=ZERO),
    ]
    stats = bot_stats(d("1"), "BTC", deals, {})
    assert stats.average_deal_seconds == 2  # 1.5 -> 2
    assert stats.win_rate_pct == ZERO  # a zero result is not a win
    short = [Deal("closed", T0, T0 + timedelta(microseconds=400_000), realized_pnl=ZERO)]
    assert bot_stats(d("1"), "BTC", short, {}).average_deal_seconds == 0


def test_totals_are_kept_apart_per_quote_currency() -> None:
    btc_a = bot_stats(d("1"), "BTC", [WIN, OPEN], {"ETH-BTC": d("0.052")})
    btc_b = bot_stats(d("0.5"), "BTC", [SMALL_WIN], {})
    usd_open = Deal(
        "open",
        T0,
        product_id="BTC-USD",
        base_amount=d("0.01"),
        bought_quote=d("600"),
        buy_fees=d("3.6"),
    )
    usd = bot_stats(d("1000"), "USD", [usd_open], {"BTC-USD": d("61000")})
    totals = totals_by_quote([usd, btc_a, btc_b])
    assert list(totals) == ["BTC", "USD"]
    assert totals["BTC"] == QuoteTotals(
        quote_currency="BTC",
        bots=2,
        budget=d("1.5"),
        open_deals=1,
        closed_deals=2,
        realized_pnl=d("0.01396"),  # 0.00896 + 0.005
        unrealized_pnl=d("0.003712"),
        fees_paid=d("0.001928"),  # 0.00104 + 0.000288 + 0.0006
        funds_in_use=d("0.048288"),
    )
    assert totals["USD"] == QuoteTotals(
        quote_currency="USD",
        bots=1,
        budget=d("1000"),
        open_deals=1,
        closed_deals=0,
        realized_pnl=ZERO,
        unrealized_pnl=d("6.4"),  # 0.01 x 61000 - 603.6
        fees_paid=d("3.6"),
        funds_in_use=d("603.6"),
    )


def test_an_unknown_unrealized_makes_the_currency_total_unknown() -> None:
    known = bot_stats(d("1"), "BTC", [OPEN], {"ETH-BTC": d("0.052")})
    unknown = bot_stats(d("1"), "BTC", [OPEN], {})
    assert totals_by_quote([known, unknown])["BTC"].unrealized_pnl is None


def test_quote_currency_of_a_product() -> None:
    assert (quote_currency_of("ETH-BTC"), quote_currency_of("btc-usdc")) == ("BTC", "USDC")


def test_compounding_bots_may_commit_their_profits_too() -> None:
    # WIN alone: realised +0.00896 raises what a compounding bot may commit, only that.
    plain = bot_stats(d("1"), "BTC", [WIN, OPEN], {"ETH-BTC": d("0.052")})
    compounding = bot_stats(
        d("1"), "BTC", [WIN, OPEN], {"ETH-BTC": d("0.052")}, compound_profits=True
    )
    assert (plain.budget_available, plain.budget_free) == (d("1"), d("0.951712"))
    assert (compounding.budget_available, compounding.budget_free) == (
        d("1.00896"),
        d("0.960672"),  # 1.00896 - 0.048288
    )

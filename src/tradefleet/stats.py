"""Bot performance figures from deal (position) records: pure arithmetic, no I/O, exact Decimals.

Definitions, so the UI, the API and the tests agree:

- *cost* of an open deal = ``bought_quote + buy_fees - sold_quote + sell_fees``: the quote the
  deal has tied up net of anything it already sold (a plain deal has no sells while open).
- *funds in use* = the sum of the open deals' cost.
- *unrealized PnL* = ``base held x last price - cost`` over open deals. The fee of the sell
  that would close the deal is NOT subtracted: it depends on how the deal exits (maker take
  profit or taker market sell). ``None`` when a last price is missing for any open deal.
- *realized PnL* = sum of the closed deals' ``realized_pnl`` (computed from their amounts
  when the column is empty); the percentage is of the bot's budget.
- *budget available* = what the bot may commit in all: its budget less its realised
  losses, ``budget + min(R, 0)`` (with ``compound_profits``, ``budget + R``), never
  below 0 (``deals.book.allowance``), R = the realised PnL of its closed deals in its
  quote currency; *budget free* = budget available - funds in use. A bot whose next
  order does not fit does not place it ("budget exhausted" in its ``last_error`` and
  signal log).
- *win rate* = closed deals with realized PnL > 0 / closed deals, in percent.
- *max drawdown* = the largest fall from a peak of the realized equity curve, in percent of
  that peak. The curve starts at the budget and adds each closed deal's realized PnL in
  ``closed_at`` order; open deals do not move it.

Percentages are rounded half up to 4 decimals and averages of money to 12 decimals.
Totals across bots are keyed by quote currency: BTC and USD amounts are never added.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from tradefleet.deals.book import allowance
from tradefleet.money import FEE_QUANTUM, ZERO, canonical

PCT_QUANTUM = Decimal("0.0001")
HUNDRED = Decimal(100)
MICROSECOND = timedelta(microseconds=1)


class DealRecord(Protocol):
    """The fields of a deal the statistics read (a ``db.models.Position`` fits)."""

    @property
    def product_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def opened_at(self) -> datetime: ...
    @property
    def closed_at(self) -> datetime | None: ...
    @property
    def base_amount(self) -> Decimal: ...
    @property
    def bought_quote(self) -> Decimal: ...
    @property
    def buy_fees(self) -> Decimal: ...
    @property
    def sold_quote(self) -> Decimal: ...
    @property
    def sell_fees(self) -> Decimal: ...
    @property
    def realized_pnl(self) -> Decimal | None: ...


@dataclass(frozen=True, slots=True)
class BotStats:
    quote_currency: str
    budget: Decimal
    open_deals: int
    closed_deals: int
    realized_pnl: Decimal
    realized_pnl_pct: Decimal
    unrealized_pnl: Decimal | None
    win_rate_pct: Decimal | None  # None before the first closed deal
    average_deal_pnl: Decimal | None
    average_deal_seconds: int | None
    fees_paid: Decimal
    max_drawdown_pct: Decimal
    funds_in_use: Decimal
    budget_available: Decimal
    budget_free: Decimal
    # Base left in closed deals below one base increment (unsellable), per currency.
    dust: dict[str, Decimal]


@dataclass(frozen=True, slots=True)
class QuoteTotals:
    """Sums over the bots that trade against one quote currency."""

    quote_currency: str
    bots: int
    budget: Decimal
    open_deals: int
    closed_deals: int
    realized_pnl: Decimal
    unrealized_pnl: Decimal | None  # None when any bot's unrealized PnL is unknown
    fees_paid: Decimal
    funds_in_use: Decimal


def quote_currency_of(product_id: str) -> str:
    """``"ETH-BTC"`` -> ``"BTC"`` (Coinbase product ids are BASE-QUOTE)."""
    return product_id.rsplit("-", 1)[-1].upper()


def base_currency_of(product_id: str) -> str:
    """``"ETH-BTC"`` -> ``"ETH"``."""
    return product_id.split("-", 1)[0].upper()


def pct(part: Decimal, whole: Decimal) -> Decimal:
    """``part / whole`` in percent, rounded half up to 4 decimals."""
    return canonical((part * HUNDRED / whole).quantize(PCT_QUANTUM, rounding=ROUND_HALF_UP))


def is_closed(deal: DealRecord) -> bool:
    return deal.status == "closed"


def deal_realized(deal: DealRecord) -> Decimal:
    """A closed deal's realized PnL: the stored column, or net sells minus gross cost."""
    if deal.realized_pnl is not None:
        return deal.realized_pnl
    return deal.sold_quote - deal.sell_fees - deal.bought_quote - deal.buy_fees


def deal_cost(deal: DealRecord) -> Decimal:
    """The quote an open deal has tied up (see the module docstring)."""
    return deal.bought_quote + deal.buy_fees - deal.sold_quote + deal.sell_fees


def unrealized_pnl(
    open_deals: Iterable[DealRecord], last_prices: Mapping[str, Decimal]
) -> Decimal | None:
    total = ZERO
    for deal in open_deals:
        price = last_prices.get(deal.product_id)
        if price is None:
            return None
        total += deal.base_amount * price - deal_cost(deal)
    return canonical(total)


def max_drawdown_pct(budget: Decimal, closed_deals: Iterable[DealRecord]) -> Decimal:
    """Largest peak-to-trough fall of budget + cumulative realized PnL, in % of the peak."""
    ordered = sorted(closed_deals, key=lambda d: (d.closed_at or d.opened_at, d.opened_at))
    equity = peak = budget
    worst = ZERO
    for deal in ordered:
        equity += deal_realized(deal)
        peak = max(peak, equity)
        if peak > 0:
            worst = max(worst, (peak - equity) * HUNDRED / peak)
    return canonical(worst.quantize(PCT_QUANTUM, rounding=ROUND_HALF_UP))


def average_seconds(closed_deals: list[DealRecord]) -> int | None:
    """Mean open-to-close time in whole seconds (half up), exact to the microsecond."""
    micros = [
        (d.closed_at - d.opened_at) // MICROSECOND for d in closed_deals if d.closed_at is not None
    ]
    if not micros:
        return None
    mean = Decimal(sum(micros)) / len(micros) / 1_000_000
    return int(mean.quantize(Decimal(1), ROUND_HALF_UP))


def bot_stats(
    budget: Decimal,
    quote_currency: str,
    deals: Iterable[DealRecord],
    last_prices: Mapping[str, Decimal],
    *,
    compound_profits: bool = False,
) -> BotStats:
    """All figures for one bot; ``last_prices`` maps product id -> last traded price."""
    deals = list(deals)
    closed = [d for d in deals if is_closed(d)]
    still_open = [d for d in deals if not is_closed(d)]
    realized = canonical(sum((deal_realized(d) for d in closed), ZERO))
    in_use = canonical(sum((deal_cost(d) for d in still_open), ZERO))
    # What the bot may commit counts only the deals in its own quote currency: it may
    # have traded another market before.
    own = sum(
        (deal_realized(d) for d in closed if quote_currency_of(d.product_id) == quote_currency),
        ZERO,
    )
    available = canonical(allowance(budget, own, compound_profits))
    wins = sum(1 for d in closed if deal_realized(d) > 0)
    return BotStats(
        quote_currency=quote_currency,
        budget=budget,
        open_deals=len(still_open),
        closed_deals=len(closed),
        realized_pnl=realized,
        realized_pnl_pct=pct(realized, budget),
        unrealized_pnl=unrealized_pnl(still_open, last_prices),
        win_rate_pct=pct(Decimal(wins), Decimal(len(closed))) if closed else None,
        average_deal_pnl=(
            canonical((realized / len(closed)).quantize(FEE_QUANTUM, ROUND_HALF_UP))
            if closed
            else None
        ),
        average_deal_seconds=average_seconds(closed),
        fees_paid=canonical(sum((d.buy_fees + d.sell_fees for d in deals), ZERO)),
        max_drawdown_pct=max_drawdown_pct(budget, closed),
        funds_in_use=in_use,
        budget_available=available,
        budget_free=canonical(max(ZERO, available - in_use)),
        dust=dust_by_currency(closed),
    )


def dust_by_currency(closed: Iterable[DealRecord]) -> dict[str, Decimal]:
    """What closed deals kept because it was below the base increment, per base currency
    (``deals.book.sellable``); only currencies with some, so paper bots show ``{}``."""
    dust: dict[str, Decimal] = {}
    for deal in closed:
        if deal.base_amount > 0:
            currency = base_currency_of(deal.product_id)
            dust[currency] = dust.get(currency, ZERO) + deal.base_amount
    return {currency: canonical(amount) for currency, amount in sorted(dust.items())}


@dataclass(frozen=True, slots=True)
class ClosedSums:
    """A bot's closed deals in one product, summed: the history part of its figures, which
    a database can aggregate (``services.deal_figures``) instead of sending every deal."""

    deals: int
    realized: Decimal  # sum of ``deal_realized``
    fees: Decimal  # sum of buy_fees + sell_fees


def bot_share(
    quote_currency: str,
    budget: Decimal,
    closed: Iterable[ClosedSums],
    open_deals: Iterable[DealRecord],
    last_prices: Mapping[str, Decimal],
) -> QuoteTotals:
    """One bot's part of the totals from its closed-deal sums and its open deals: the same
    figures ``bot_totals(bot_stats(...))`` gives from every deal, without the history."""
    closed = list(closed)
    still_open = list(open_deals)
    if not closed and not still_open:  # most bots of a fleet: only the budget counts
        return QuoteTotals(quote_currency, 1, budget, 0, 0, ZERO, ZERO, ZERO, ZERO)
    realized = canonical(sum((c.realized for c in closed), ZERO))
    fees = sum((c.fees for c in closed), ZERO) + sum(
        (d.buy_fees + d.sell_fees for d in still_open), ZERO
    )
    return QuoteTotals(
        quote_currency=quote_currency,
        bots=1,
        budget=budget,
        open_deals=len(still_open),
        closed_deals=sum(c.deals for c in closed),
        realized_pnl=realized,
        unrealized_pnl=unrealized_pnl(still_open, last_prices),
        fees_paid=canonical(fees),
        funds_in_use=canonical(sum((deal_cost(d) for d in still_open), ZERO)),
    )


def bot_totals(stats: BotStats) -> QuoteTotals:
    """One bot's part of the totals of its quote currency."""
    return QuoteTotals(
        quote_currency=stats.quote_currency,
        bots=1,
        budget=stats.budget,
        open_deals=stats.open_deals,
        closed_deals=stats.closed_deals,
        realized_pnl=stats.realized_pnl,
        unrealized_pnl=stats.unrealized_pnl,
        fees_paid=stats.fees_paid,
        funds_in_use=stats.funds_in_use,
    )


def totals_by_quote(all_stats: Iterable[BotStats]) -> dict[str, QuoteTotals]:
    """Sum bots per quote currency; the result is ordered by currency code."""
    return sum_by_quote(bot_totals(stats) for stats in all_stats)


def sum_by_quote(shares: Iterable[QuoteTotals]) -> dict[str, QuoteTotals]:
    """Add bots' shares (``bot_totals``, ``bot_share``) per quote currency, ordered by code.

    Summed exactly and made canonical once at the end (the value of a sum does not depend
    on how its parts were written), not once per bot: for a thousand bots that was most
    of the time of ``/api/stats``."""
    running: dict[str, _Running] = {}
    for share in shares:
        sums = running.get(share.quote_currency)
        if sums is None:
            sums = running[share.quote_currency] = _Running()
        sums.add(share)
    return {currency: running[currency].totals(currency) for currency in sorted(running)}


@dataclass(slots=True)
class _Running:
    """The running sums of one quote currency (``sum_by_quote``)."""

    bots: int = 0
    budget: Decimal = ZERO
    open_deals: int = 0
    closed_deals: int = 0
    realized_pnl: Decimal = ZERO
    unrealized_pnl: Decimal | None = ZERO  # None once any bot's is unknown
    fees_paid: Decimal = ZERO
    funds_in_use: Decimal = ZERO

    def add(self, share: QuoteTotals) -> None:
        self.bots += share.bots
        self.budget += share.budget
        self.open_deals += share.open_deals
        self.closed_deals += share.closed_deals
        self.realized_pnl += share.realized_pnl
        if self.unrealized_pnl is not None:
            unrealized = share.unrealized_pnl
            self.unrealized_pnl = None if unrealized is None else self.unrealized_pnl + unrealized
        self.fees_paid += share.fees_paid
        self.funds_in_use += share.funds_in_use

    def totals(self, quote_currency: str) -> QuoteTotals:
        unrealized = self.unrealized_pnl
        return QuoteTotals(
            quote_currency=quote_currency,
            bots=self.bots,
            budget=canonical(self.budget),
            open_deals=self.open_deals,
            closed_deals=self.closed_deals,
            realized_pnl=canonical(self.realized_pnl),
            unrealized_pnl=None if unrealized is None else canonical(unrealized),
            fees_paid=canonical(self.fees_paid),
            funds_in_use=canonical(self.funds_in_use),
        )

"""``sum_by_quote`` adds exactly and makes each total canonical once: it must give what
adding share by share, canonical at every step, gives (the rule it replaced)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tradefleet.money import ZERO, canonical
from tradefleet.stats import QuoteTotals, sum_by_quote

amounts = st.decimals(
    min_value=Decimal("-1E+12"), max_value=Decimal("1E+12"), places=18, allow_nan=False
)
shares = st.builds(
    QuoteTotals,
    quote_currency=st.sampled_from(["BTC", "USD", "EUR"]),
    bots=st.just(1),
    budget=amounts.map(abs),
    open_deals=st.integers(0, 5),
    closed_deals=st.integers(0, 50),
    realized_pnl=amounts,
    unrealized_pnl=st.one_of(st.none(), amounts),
    fees_paid=amounts.map(abs),
    funds_in_use=amounts.map(abs),
)


def step_by_step(items: list[QuoteTotals]) -> dict[str, QuoteTotals]:
    totals: dict[str, QuoteTotals] = {}
    for s in items:
        b = totals.get(s.quote_currency) or QuoteTotals(
            s.quote_currency, 0, ZERO, 0, 0, ZERO, ZERO, ZERO, ZERO
        )
        unrealized = (
            None
            if b.unrealized_pnl is None or s.unrealized_pnl is None
            else canonical(b.unrealized_pnl + s.unrealized_pnl)
        )
        totals[s.quote_currency] = QuoteTotals(
            s.quote_currency,
            b.bots + s.bots,
            canonical(b.budget + s.budget),
            b.open_deals + s.open_deals,
            b.closed_deals + s.closed_deals,
            canonical(b.realized_pnl + s.realized_pnl),
            unrealized,
            canonical(b.fees_paid + s.fees_paid),
            canonical(b.funds_in_use + s.funds_in_use),
        )
    return {currency: totals[currency] for currency in sorted(totals)}


@given(st.lists(shares, max_size=40))
def test_the_totals_are_those_of_adding_share_by_share(items: list[QuoteTotals]) -> None:
    got = sum_by_quote(items)
    assert got == step_by_step(items)
    assert list(got) == sorted(got)
    for totals in got.values():  # written canonically: "1.5", never "1.50" or "1E+1"
        assert str(totals.budget) == str(canonical(totals.budget))

"""The paper account: holds keep every bot's funds its own."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradefleet.brokers.paper_account import Balance, InsufficientFundsError, PaperAccount
from tradefleet.domain import Fill, ProductSpec, Side
from tradefleet.market.products import POPULAR_SPECS

D = Decimal
BTC_USD: ProductSpec = POPULAR_SPECS["BTC-USD"]
ETH_BTC: ProductSpec = POPULAR_SPECS["ETH-BTC"]


def account() -> PaperAccount:
    return PaperAccount(
        {
            "USD": Balance(total=D(1000), hold=D(0), starting=D(1000)),
            "BTC": Balance(total=D(1), hold=D(0), starting=D(1)),
        }
    )


def fill(side: Side, price: str, base: str, quote: str, fee: str) -> Fill:
    return Fill("x", 0, side, D(price), D(base), D(quote), D(fee))


def test_base_a_deal_bought_is_held_until_the_deal_sells_it() -> None:
    paper = account()
    paper.reserve("USD", D(100))
    paper.settle(BTC_USD, fill(Side.BUY, "50000", "0.00198", "99", "0.594"), D(100))
    usd, btc = paper.balance("USD"), paper.balance("BTC")
    assert (usd.total, usd.hold) == (D("900.406"), D(0))
    assert (btc.total, btc.hold, btc.available) == (D("1.00198"), D("0.00198"), D(1))
    # another bot quoting in BTC can reserve what is free, never the deal's BTC
    with pytest.raises(InsufficientFundsError, match=r"need 1\.001, available 1"):
        paper.reserve("BTC", D("1.001"))
    paper.reserve("BTC", D(1))
    # the deal can still sell what it holds although nothing else is free
    paper.settle(BTC_USD, fill(Side.SELL, "51000", "0.00198", "100.98", "0.40392"), D("0.00198"))
    assert (btc.total, btc.hold) == (D(1), D(1))
    assert (usd.total, usd.hold) == (D("1000.98208"), D(0))


def test_a_sell_of_more_than_the_deal_holds_is_refused_and_changes_nothing() -> None:
    paper = account()
    paper.reserve("BTC", D("0.9"))
    with pytest.raises(InsufficientFundsError, match="insufficient ETH"):
        paper.settle(ETH_BTC, fill(Side.SELL, "0.05", "1", "0.05", "0.0002"), D(0))
    assert (paper.balance("BTC").total, paper.balance("BTC").hold) == (D(1), D("0.9"))
    assert paper.balance("ETH").total == D(0)

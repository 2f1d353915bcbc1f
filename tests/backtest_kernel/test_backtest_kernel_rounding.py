"""The float64 emulation of the Decimal rounding rules, and the exact fallback."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from kernel_testkit import BTC, FEES, USD, D, both

from tradefleet.backtest.kernel import layout
from tradefleet.backtest.kernel.orders import market_buy_lots
from tradefleet.backtest.kernel.params import increment_fraction, signal_params
from tradefleet.backtest.kernel.rounding import (
    down_lots,
    fee_of,
    floor_snap,
    ge_tol,
    le_tol,
    lt_tol,
    near_integer,
    nearest_ticks,
)
from tradefleet.deals.settings import DealSettings
from tradefleet.domain import Candle, SignalAction
from tradefleet.money import fee_for, round_down, round_nearest


def test_floor_snap_takes_float_noise_below_an_integer_as_the_integer() -> None:
    assert 4.35 * 100 < 435  # 434.99999999999994 in float64
    assert floor_snap(4.35 * 100) == 435
    assert floor_snap(2.999999) == 2  # a real fraction is not snapped
    assert floor_snap(7.0) == 7


def test_a_price_exactly_on_a_half_tick_rounds_up_like_decimal() -> None:
    # 150.00 x 1.0103 = 151.545 exactly; float64 holds it as 151.54499999999999...
    exact = round_nearest(D("150.00") * D("1.0103"), D("0.01"))
    assert exact == D("151.55")
    assert nearest_ticks(150.0 * 1.0103, 1, 100) == 15155
    assert nearest_ticks(151.5449, 1, 100) == 15154


def test_round_down_to_lots_matches_decimal() -> None:
    assert down_lots(0.3, 1, 10) == int(round_down(D("0.3"), D("0.1")) / D("0.1")) == 3
    assert down_lots(50 / 123.45, 1, 10_000) == 4050  # 0.40502227...
    assert down_lots(-1.0, 1, 100) == 0


@pytest.mark.parametrize(
    ("quote", "rate"),
    [("100", "0.006"), ("99.4", "0.006"), ("0.0000000000025", "1"), ("1.0000000000005", "1")],
)
def test_fee_is_rounded_to_1e12_half_up(quote: str, rate: str) -> None:
    assert fee_of(float(quote), float(rate)) == float(fee_for(D(quote), D(rate)))


def test_tolerant_comparisons_take_float_noise_as_equality() -> None:
    total = 0.1 + 0.2  # 0.30000000000000004
    assert le_tol(total, 0.3)
    assert not lt_tol(0.3, total)
    assert ge_tol(0.3, total)
    assert not le_tol(0.3001, 0.3)


def test_near_integer_flags_values_float64_cannot_place() -> None:
    assert near_integer(186882528.99999998)
    assert not near_integer(186882528.4)


def test_increment_fraction() -> None:
    assert increment_fraction(D("0.01")) == (1, 100)
    assert increment_fraction(D("0.050")) == (5, 100)
    assert increment_fraction(D("1E+1")) == (10, 1)
    assert increment_fraction(D("0.00000001")) == (1, 10**8)
    with pytest.raises(ValueError, match="positive"):
        increment_fraction(D(0))


QUOTE = D("0.10383")
OPEN = 0.0552276  # gross + rounded fee of one lot more overshoots the quote by < 1e-13


def test_a_market_buy_float64_cannot_size_is_sized_exactly() -> None:
    """The float path reports the ambiguity (-1) and ``exact`` decides, like Decimal."""
    config = DealSettings(budget=D(1), base_order_quote=QUOTE)
    params = signal_params(config, BTC, FEES, 300)
    assert market_buy_lots(float(QUOTE), OPEN, params.ints, params.floats) == -1
    bars = [Candle(0, 0.055, 0.055, 0.055, 0.055, 1.0), Candle(300, OPEN, OPEN, OPEN, OPEN, 1.0)]
    actions = [SignalAction.BUY, SignalAction.HOLD]
    kernel, reference = both(config, bars, actions, BTC, fees=FEES, step=300)
    assert int(kernel.fills.base_lots[0]) == 186_882_528
    assert reference.fills[0].base_amount == Decimal("1.86882528")
    quote = reference.fills[0].quote_amount
    assert quote + reference.fills[0].fee <= QUOTE  # the reference's rule, held exactly


def test_parameters_are_worked_out_in_decimal() -> None:
    config = DealSettings(
        budget=D(1000),
        base_order_quote=D("100.009"),  # rounded down to the quote increment: 100.00
        safety_order_count=2,
        safety_order_quote=D(10),
        safety_deviation_pct=D(1),
        safety_step_scale=D(2),
        safety_volume_scale=D("1.5"),
        take_profit_pct=D("1.5"),
    )
    params = signal_params(config, USD, FEES, 60)
    assert params.floats[layout.PF_BASE_QUOTE] == 100.0
    assert params.floats[layout.PF_TP_FACTOR] == 1.015
    # deviations 1 % and 1 + 2 = 3 %; quotes 10 and 15
    assert np.array_equal(params.ladder, np.array([[0.99, 10.0], [0.97, 15.0]]))
    assert params.ints[layout.PI_MIN_LOTS] == 1  # 0.0001 / 0.0001
    btc = signal_params(config, BTC, FEES, 60)
    assert btc.ints[layout.PI_MIN_LOTS] == 22_000  # 0.00022 / 0.00000001

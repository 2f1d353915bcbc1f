"""``trade_text``: the trades written from the exact columns are ``json.dumps`` of the
``Fill`` objects' ``trade_json``."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pytest
from tests.backtest.backtest_testkit import FEES, MINUTE, PRODUCT, arrays, bar

from tradefleet.backtest.columns import FillColumns
from tradefleet.backtest.report import trade_json
from tradefleet.backtest.runner import run_backtest
from tradefleet.backtest.trade_text import trades_json
from tradefleet.backtest.units import to_units, unit_array
from tradefleet.domain import ProductSpec

D = Decimal
T0 = 1_704_067_200


def columns(rows: list[tuple[int, bool, str, str, str, str]], scale: int) -> FillColumns:
    def units(k: int) -> np.ndarray:
        values = [to_units(D(r[k]), scale) for r in rows]
        wide = max(values, default=0) >= 2**63
        return unit_array(values) if wide else np.array(values, dtype=np.int64)

    return FillColumns(
        time=np.array([r[0] for r in rows], dtype=np.int64),
        buy=np.array([r[1] for r in rows]),
        base=units(3),
        quote=units(4),
        fee=units(5),
        scale=scale,
        price=units(2),
    )


def test_trades_worked_out_by_hand() -> None:
    fills = [(T0, True, "1923.95", "0.25833202", "497.0178898790", "2.982107339274"),
             (T0 + 60, False, "2000", "0.25833202", "516.66404", "0")]  # fmt: skip
    assert trades_json(columns(fills, 12)) == (
        f'[{{"time": {T0}, "side": "buy", "price": "1923.95", "base_amount": "0.25833202", '
        '"quote_amount": "497.017889879", "fee": "2.982107339274"}, '
        f'{{"time": {T0 + 60}, "side": "sell", "price": "2000", "base_amount": "0.25833202", '
        '"quote_amount": "516.66404", "fee": "0"}]'
    )
    assert trades_json(columns([], 12)) == "[]"


def test_units_beyond_int64_of_a_btc_quoted_pair() -> None:
    # 10328.71763599 ADA at scale 16 is 1.03e20 units: Python ints, split per fill.
    fills = [(T0, True, "0.00004812", "10328.71763599", "0.4970178926438388", "0.002982107356")]
    expected = [{"time": T0, "side": "buy", "price": "0.00004812",
                 "base_amount": "10328.71763599", "quote_amount": "0.4970178926438388",
                 "fee": "0.002982107356"}]  # fmt: skip
    assert trades_json(columns(fills, 16)) == json.dumps(expected)


def test_without_a_price_or_with_a_negative_time_the_objects_decide() -> None:
    fills = [(T0, True, "1", "1", "1", "0")]
    no_price = columns(fills, 8)
    assert trades_json(FillColumns(no_price.time, no_price.buy, no_price.base, no_price.quote,
                                   no_price.fee, 8)) is None  # fmt: skip
    assert trades_json(columns([(-60, True, "1", "1", "1", "0")], 8)) is None


FINE = ProductSpec(
    product_id="ETH-BTC", base_currency="ETH", quote_currency="BTC",
    base_increment=D("1E-8"), quote_increment=D("1E-8"), price_increment=D("1E-8"),
    base_min_size=D("1E-8"), quote_min_size=D("1E-8"),
)  # fmt: skip


@pytest.mark.parametrize(
    ("strategy", "config", "product", "budget", "scale_price"),
    [
        ("ema_cross", {"fast_period": 2, "slow_period": 3}, PRODUCT, "1000", 100.0),
        ("rsi", {"rsi_period": 2, "oversold": 40, "overbought": 60}, PRODUCT, "1000", 100.0),
        ("ema_cross", {"fast_period": 2, "slow_period": 3}, FINE, "1", 0.0000531),
        ("ema_cross", {"fast_period": 2, "slow_period": 3}, FINE, "3000", 0.07),
    ],
)
def test_kernel_runs_write_the_objects_text(
    strategy: str, config: dict[str, object], product: ProductSpec, budget: str,
    scale_price: float,
) -> None:  # fmt: skip
    wave = [1.0, 1.02, 0.97, 1.05, 0.99, 0.95, 1.04, 1.08, 1.0, 0.96, 1.03, 1.0]
    bars = []
    for i, w in enumerate(wave * 4):
        o = round(scale_price * w, 7)
        c = round(scale_price * wave[(i + 1) % len(wave)], 7)
        bars.append(
            bar(T0 + i * MINUTE, o, round(max(o, c) * 1.01, 7), round(min(o, c) * 0.99, 7), c)
        )
    result = run_backtest(
        strategy, config, arrays(bars), product, D(budget), FEES, timeframe="1m", engine="kernel"
    )
    assert result.fill_columns is not None and result.fill_columns.price is not None
    fills = list(result.fills)
    assert len(fills) > 4
    assert trades_json(result.fill_columns) == json.dumps([trade_json(f) for f in fills])

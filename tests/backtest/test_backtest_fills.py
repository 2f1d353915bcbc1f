"""Fills worked out by hand on small candle series, through ``run_backtest``.

The strategy is simple_dca with a 60-minute interval: its only BUY is on the candle at
the hour (candle 2), so the base order fills at the open of candle 3. Budget 1000 USD,
buy 100 USD, take profit 10 % (110.00) and stop loss 5 % (95.00) of the average entry.
At 100.00 with the 0.6 % taker fee the buy gets round_down(100 / 100.6, 0.0001) = 0.9940
ETH for 99.40 USD + 0.5964 fee.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.backtest.backtest_testkit import FEES, HOUR, MINUTE, PRODUCT, arrays, bar

from tradefleet.backtest.engines import EngineJob, EngineRun, reference_engine, register_engine
from tradefleet.backtest.runner import BacktestResult, infer_timeframe, run_backtest
from tradefleet.domain import Candle, FeeSchedule

D = Decimal
CONFIG = {"buy_amount": 100, "interval_minutes": 60, "take_profit_pct": 10, "stop_loss_pct": 5}
T0 = HOUR - 2 * MINUTE


def _series(fifth: Candle | None = None, sixth_close: float = 100.0) -> list[Candle]:
    bars = [bar(T0 + i * MINUTE, 100, 100, 100, 100) for i in range(3)]
    bars.append(bar(T0 + 3 * MINUTE, 100, 100.5, 99.5, 100))  # the buy fills at this open
    bars.append(bar(T0 + 4 * MINUTE, 100, 101, 99, 100))
    bars.append(fifth or bar(T0 + 5 * MINUTE, 100, 101, 99, 100))
    bars.append(bar(T0 + 6 * MINUTE, sixth_close, sixth_close, sixth_close, sixth_close))
    return bars


def _run(bars: list[Candle], fees: FeeSchedule = FEES, **options: object) -> BacktestResult:
    return run_backtest(
        "simple_dca", CONFIG, arrays(bars), PRODUCT, D(1000), fees, timeframe="1m", **options
    )  # type: ignore[arg-type]


def _fills(result: BacktestResult) -> list[tuple[int, str, Decimal, Decimal, Decimal, Decimal]]:
    return [
        (f.time, f.side.value, f.price, f.base_amount, f.quote_amount, f.fee) for f in result.fills
    ]


BUY = (T0 + 3 * MINUTE, "buy", D(100), D("0.9940"), D("99.40"), D("0.5964"))


def test_a_gap_through_the_stop_fills_at_the_open() -> None:
    result = _run(_series(bar(T0 + 5 * MINUTE, 90, 92, 89, 91), sixth_close=91))
    assert _fills(result) == [
        BUY,
        (T0 + 5 * MINUTE, "sell", D(90), D("0.9940"), D("89.46"), D("0.53676")),
    ]
    (deal,) = result.deals
    assert (deal.status, deal.close_reason) == ("closed", "stop_loss")
    assert deal.realized_pnl == D("89.46") - D("0.53676") - D("99.40") - D("0.5964")


def test_take_profit_and_stop_loss_in_one_candle_takes_the_stop() -> None:
    result = _run(_series(bar(T0 + 5 * MINUTE, 100, 111, 94, 100), sixth_close=111))
    assert _fills(result) == [
        BUY,
        (T0 + 5 * MINUTE, "sell", D(95), D("0.9940"), D("94.43"), D("0.56658")),
    ]
    assert [d.close_reason for d in result.deals] == ["stop_loss"]


def test_a_limit_touched_exactly_fills_at_its_price_with_the_maker_fee() -> None:
    touched = _run(_series(bar(T0 + 5 * MINUTE, 100, 110, 99, 105)))
    sell = (T0 + 5 * MINUTE, "sell", D(110), D("0.9940"), D("109.34"), D("0.43736"))
    assert _fills(touched) == [BUY, sell]
    assert [d.close_reason for d in touched.deals] == ["take_profit"]
    missed = _run(_series(bar(T0 + 5 * MINUTE, 100, 109.99, 99, 105)))
    assert _fills(missed) == [BUY]
    assert [(d.status, d.base_amount) for d in missed.deals] == [("open", D("0.9940"))]


def test_fees_and_slippage_are_exact() -> None:
    fees = FeeSchedule(taker=D("0.001"), maker=D(0), slippage=D("0.01"))
    result = _run(_series(bar(T0 + 5 * MINUTE, 90, 92, 89, 91)), fees)
    # Buy at 100 x 1.01 = 101: round_down(100 / (101 x 1.001), 0.0001) = 0.9891; the stop
    # (avg 101 - 5 % = 95.95) gaps to the open 90, less 1 % slippage = 89.10.
    assert _fills(result) == [
        (T0 + 3 * MINUTE, "buy", D(101), D("0.9891"), D("99.8991"), D("0.0998991")),
        (T0 + 5 * MINUTE, "sell", D("89.10"), D("0.9891"), D("88.12881"), D("0.08812881")),
    ]


def test_an_order_waits_across_a_gap_for_the_next_candle_present() -> None:
    bars = [bar(T0 + i * MINUTE, 100, 100, 100, 100) for i in range(3)]
    bars.append(bar(HOUR + 3 * MINUTE, 102, 102, 102, 102))  # minutes 1 and 2 are missing
    result = _run(bars)
    # round_down(100 / (102 x 1.006), 0.0001) = 0.9745: 99.399 + 0.596394 fee.
    assert _fills(result) == [
        (HOUR + 3 * MINUTE, "buy", D(102), D("0.9745"), D("99.399"), D("0.596394"))
    ]


def test_equity_and_metrics_follow_the_fills() -> None:
    result = _run(_series(bar(T0 + 5 * MINUTE, 90, 92, 89, 91), sixth_close=91))
    after_buy = D(1000) - D("99.9964") + D("0.9940") * 100
    after_sell = D(1000) - D("99.9964") + D("89.46") - D("0.53676")
    values = [D(1000)] * 3 + [after_buy] * 2 + [after_sell] * 2
    assert result.equity_points() == [(T0 + i * MINUTE, v) for i, v in enumerate(values)]
    assert result.equity.tolist() == pytest.approx([float(v) for v in values])
    m = result.metrics
    assert (m.final_equity, m.pnl, m.realized_pnl) == (
        D("988.92684"),
        D("-11.07316"),
        D("-11.07316"),
    )
    assert m.unrealized_pnl == 0
    assert m.total_return_pct == pytest.approx(-1.107316)
    assert m.max_drawdown_pct == pytest.approx(1.107316)
    assert m.buy_and_hold_return_pct == pytest.approx(-9.0)
    assert m.exposure_pct == pytest.approx(200 / 7)
    # the most paid out is the buy: 99.4 + fee 0.5964
    assert (m.fees_paid, m.funds_needed_peak) == (D("1.13316"), D("99.9964"))
    assert (m.deals, m.deals_closed, m.deals_open, m.win_rate_pct) == (1, 1, 0, 0.0)
    assert (m.avg_deal_duration_seconds, m.max_deal_duration_seconds) == (120, 120)
    assert (m.start, m.end, m.candles, m.fills) == (T0, T0 + 7 * MINUTE, 7, 2)
    assert m.sharpe is not None and m.sharpe < 0


def test_an_open_deal_is_marked_to_the_last_close() -> None:
    result = _run(_series(sixth_close=104))
    m = result.metrics
    assert m.final_equity == D(1000) - D("99.9964") + D("0.9940") * 104
    assert (m.realized_pnl, m.unrealized_pnl) == (0, D("0.9940") * 104 - D("99.9964"))
    assert (m.deals, m.deals_open, m.win_rate_pct, m.avg_deal_duration_seconds) == (
        1,
        1,
        None,
        None,
    )


def test_candles_before_start_only_warm_up() -> None:
    result = _run(_series(), start=3)
    assert result.fills == [] and result.deals == []
    assert result.times.tolist() == [T0 + i * MINUTE for i in range(3, 7)]
    assert result.metrics.total_return_pct == 0.0


def test_the_timeframe_is_inferred_from_the_spacing() -> None:
    assert infer_timeframe(arrays(_series())) == 60
    with pytest.raises(ValueError, match="one candle does not show it"):
        infer_timeframe(arrays(_series()[:1]))
    with pytest.raises(ValueError, match="70 s apart"):
        infer_timeframe(arrays([bar(0, 1, 1, 1, 1), bar(70, 1, 1, 1, 1)]))
    assert _fills(
        run_backtest("simple_dca", CONFIG, arrays(_series()), PRODUCT, D(1000), FEES)
    ) == [BUY]


def test_progress_is_reported_up_to_the_end() -> None:
    seen: list[tuple[int, int]] = []
    _run(_series(), progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (7, 7) and all(total == 7 for _, total in seen)


def test_the_fill_engine_is_swappable() -> None:
    calls: list[EngineJob] = []

    def recording(job: EngineJob) -> EngineRun:
        calls.append(job)
        return reference_engine(job)

    register_engine("recording-test", recording)
    result = _run(_series(bar(T0 + 5 * MINUTE, 90, 92, 89, 91)), engine="recording-test")
    assert len(calls) == 1 and calls[0].tf_seconds == 60 and calls[0].buy.tolist()[2] is True
    assert _fills(result)[0] == BUY
    with pytest.raises(ValueError, match="already registered"):
        register_engine("reference", recording)
    with pytest.raises(ValueError, match="unknown backtest engine 'fast'"):
        _run(_series(), engine="fast")

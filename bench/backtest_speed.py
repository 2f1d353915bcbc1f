"""How fast one year of 1-minute candles backtests, per built-in strategy.

    .venv/bin/python bench/backtest_speed.py [--candles 525600] [--repeat 5]

Generates a seeded random walk (about 70 % annualised volatility, prices on a 0.01 grid)
and, for every registered strategy with its default parameters (the grid's range set
around the price), and again for every signal strategy with its deal settings on (five
safety orders, take profit, trailing, stop loss: ``DEAL_CONFIG``), times the strategy's
indicator computation (TA-Lib) plus the compiled kernel over all candles, after a
warm-up call, and ``run_backtest`` end to end. Prints candles per second (best of
``--repeat``), the first call's compile or cache-load time, fills and deals, and the
memory the year takes (traced allocations, and each fresh process's own peak RSS). When
``vectorbt`` and ``backtesting`` are installed (bench-only extras, not project
dependencies) it runs the same plain RSI rules in both and prints the ratios to
tradefleet's kernel and to its ``run_backtest``. Prints figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np

from tradefleet.backtest.kernel import KernelResult, run_kernel
from tradefleet.backtest.runner import run_backtest
from tradefleet.domain import CandleArrays, FeeSchedule, ProductSpec
from tradefleet.strategies import StrategyRegistry, TradingStrategy

MINUTE = 60
START = 1_704_067_200  # 2024-01-01 00:00 UTC
BUDGET = Decimal(10_000)
PRODUCT = ProductSpec(
    product_id="ETH-USD",
    base_currency="ETH",
    quote_currency="USD",
    base_increment=Decimal("0.00000001"),
    quote_increment=Decimal("0.01"),
    price_increment=Decimal("0.01"),
    base_min_size=Decimal("0.00000001"),
    quote_min_size=Decimal("1"),
)
FEES = FeeSchedule()
RSI_PERIOD, OVERSOLD, OVERBOUGHT = 14, 30.0, 70.0
DEAL_CONFIG: dict[str, Any] = {
    "safety_order_count": 5,  # at 1, 2, 3, 4 and 5 % below the base price
    "safety_order_pct": 10,  # 10 % of the budget each: ema_cross's 50 % entry + 5 x 10 % fits
    "safety_order_deviation_pct": 1,
    "take_profit_pct": 1.5,
    "trailing_deviation_pct": 0.5,
    "stop_loss_pct": 5,
}
"""Deal settings every signal strategy is also timed with (the ones it takes: simple_dca
has no safety orders); the grid has none and runs as with its defaults."""
VARIANTS = ("defaults", "deal settings", "deal settings, no fees")
"""The third variant trades all year: with fees, a losing strategy (ema_cross on this walk)
exhausts its budget (a bot never loses more than it) and stops buying within weeks."""
NO_FEES = FeeSchedule(taker=Decimal(0), maker=Decimal(0))


def fees_for(variant: str) -> FeeSchedule:
    return NO_FEES if variant.endswith("no fees") else FEES


BASELINE_CANDLES = 1_000  # a child process that does almost nothing, to compare peaks with


def make_candles(count: int, seed: int = 7, start_price: float = 2000.0) -> CandleArrays:
    """A reproducible 1-minute random walk; each candle opens at the previous close."""
    rng = np.random.default_rng(seed)
    vol = 0.7 / np.sqrt(525_600)  # per minute, ~70 % a year
    close = np.round(start_price * np.exp(np.cumsum(rng.normal(0.0, vol, count))), 2)
    open_ = np.concatenate(([start_price], close[:-1]))
    wick = np.abs(rng.normal(0.0, vol / 2, (2, count)))
    high = np.round(np.maximum(open_, close) * (1 + wick[0]), 2)
    low = np.round(np.minimum(open_, close) * (1 - wick[1]), 2)
    return CandleArrays(
        time=START + MINUTE * np.arange(count, dtype=np.int64),
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=np.ones(count),
    )


def strategy_for(
    strategy_id: str, candles: CandleArrays, variant: str = VARIANTS[0]
) -> TradingStrategy:
    """Default parameters, or with ``DEAL_CONFIG`` as far as the strategy takes it; the grid
    gets a range around the first price."""
    if strategy_id != "grid":
        if variant == VARIANTS[0]:
            return StrategyRegistry.create(strategy_id, None)
        definition = StrategyRegistry.get(strategy_id).definition
        names = {parameter.name for parameter in definition.parameters}
        return StrategyRegistry.create(
            strategy_id, {name: value for name, value in DEAL_CONFIG.items() if name in names}
        )
    price = float(candles.close[0])
    config = {
        "lower_price": round(price * 0.7, 2),
        "upper_price": round(price * 1.3, 2),
        "quote_per_level": float(BUDGET) / 10,
    }
    return StrategyRegistry.create("grid", config)


def backtest(
    strategy: TradingStrategy, candles: CandleArrays, fees: FeeSchedule = FEES
) -> KernelResult:
    """What one backtest costs: indicators and signals, then the kernel."""
    signals = strategy.compute(candles)
    settings = strategy.deal_settings(BUDGET)
    return run_kernel(settings, signals.buy, signals.sell, candles, PRODUCT, fees, MINUTE)


def best_time(action: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def split_times(
    strategy: TradingStrategy, candles: CandleArrays, repeat: int, fees: FeeSchedule = FEES
) -> tuple[float, float]:
    """(indicator seconds, kernel seconds), each the best of ``repeat``."""
    signals = strategy.compute(candles)
    settings = strategy.deal_settings(BUDGET)
    indicators = best_time(lambda: strategy.compute(candles), repeat)
    kernel = best_time(
        lambda: run_kernel(settings, signals.buy, signals.sell, candles, PRODUCT, fees, MINUTE),
        repeat,
    )
    return indicators, kernel


def traced_peak_mb(action: Callable[[], object]) -> float:
    """Peak of Python and numpy allocations while ``action`` runs, in MB."""
    tracemalloc.start()
    action()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def bench_strategies(candles: CandleArrays, repeat: int, variant: str) -> float:
    """One line per strategy; returns the slowest strategy's candles per second."""
    count = len(candles)
    print(f"kernel only (indicators + kernel), {variant}:")
    print(f"{'strategy':<12}{'first call':>11}{'indicators':>12}{'kernel':>10}"
          f"{'total':>10}{'M candles/s':>13}{'fills':>8}{'deals':>7}{'traced MB':>11}")  # fmt: skip
    slowest = float("inf")
    fees = fees_for(variant)
    for cls in StrategyRegistry.all():
        strategy = strategy_for(cls.definition.id, candles, variant)
        started = time.perf_counter()
        result = backtest(strategy, candles, fees)
        first = time.perf_counter() - started
        indicators, kernel = split_times(strategy, candles, repeat, fees)
        total = best_time(lambda s=strategy: backtest(s, candles, fees), repeat)
        rate = count / total
        slowest = min(slowest, rate)
        traced = traced_peak_mb(lambda s=strategy: backtest(s, candles, fees))
        print(
            f"{cls.definition.id:<12}{first:>10.3f}s{indicators * 1e3:>10.2f}ms"
            f"{kernel * 1e3:>8.2f}ms{total * 1e3:>8.2f}ms{rate / 1e6:>13.1f}"
            f"{len(result.fills):>8}{len(result.deals):>7}{traced:>11.1f}"
        )
    return slowest


def peak_rss_mb(strategy_id: str, count: int) -> float:
    """Peak resident memory of a fresh process that backtests one strategy over the
    candles (interpreter, numba and TA-Lib included), in MB."""
    command = [sys.executable, __file__, "--candles", str(count), "--rss-of", strategy_id]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return float(output.split()[-1])


def own_peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM), in MB.

    Not ``getrusage(RUSAGE_SELF).ru_maxrss``: on Linux that survives exec, so a child
    started by this (large) benchmark would report the parent's peak. VmHWM belongs to
    the address space, which exec replaces.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # no /proc: not Linux


def _rss_child(strategy_id: str, count: int) -> None:
    candles = make_candles(count)
    backtest(strategy_for(strategy_id, candles), candles)
    print(own_peak_rss_mb())


def rsi_signals(close: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The plain RSI rules: enter when RSI crosses below 30, exit while it is above 70."""
    import talib

    rsi = talib.RSI(close, timeperiod=RSI_PERIOD)
    entries = np.zeros(close.shape[0], dtype=bool)
    entries[1:] = (rsi[:-1] >= OVERSOLD) & (rsi[1:] < OVERSOLD)
    return rsi, entries, rsi > OVERBOUGHT


def bench_vectorbt(candles: CandleArrays, repeat: int) -> float | None:
    """RSI computation + ``Portfolio.from_signals`` (no DCA logic), seconds or None."""
    try:
        import pandas as pd
        import vectorbt as vbt
    except ImportError as error:
        print(f"vectorbt: not installed ({error})")
        return None
    index = pd.to_datetime(candles.time, unit="s")
    close = pd.Series(candles.close, index=index)

    def run() -> Any:
        _rsi, entries, exits = rsi_signals(candles.close)
        return vbt.Portfolio.from_signals(close, entries, exits, fees=0.006, freq="1min")

    run()  # compiles vectorbt's numba functions
    seconds = best_time(run, repeat)
    print(f"vectorbt {vbt.__version__}: RSI entry/exit signals {seconds * 1e3:.1f} ms, "
          f"{len(candles) / seconds / 1e6:.2f} M candles/s")  # fmt: skip
    return seconds


def bench_backtesting(candles: CandleArrays) -> float | None:
    """The same rules as a backtesting.py ``Strategy`` (its per-candle Python loop)."""
    try:
        import pandas as pd
        from backtesting import Backtest, Strategy
    except ImportError as error:
        print(f"backtesting.py: not installed ({error})")
        return None

    class Rsi(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            self.rsi = self.I(
                lambda c: rsi_signals(np.asarray(c, dtype=np.float64))[0], self.data.Close
            )

        def next(self) -> None:
            if len(self.rsi) > 1 and self.rsi[-2] >= OVERSOLD > self.rsi[-1] and not self.position:
                self.buy()
            elif self.rsi[-1] > OVERBOUGHT and self.position:
                self.position.close()

    frame = pd.DataFrame(
        {"Open": candles.open, "High": candles.high, "Low": candles.low,
         "Close": candles.close, "Volume": candles.volume},
        index=pd.to_datetime(candles.time, unit="s"),
    )  # fmt: skip
    warnings.filterwarnings("ignore", module="backtesting")  # margin notices per order
    test = Backtest(frame, Rsi, cash=100_000_000, commission=0.006, finalize_trades=True)
    started = time.perf_counter()
    stats = test.run()
    seconds = time.perf_counter() - started
    print(f"backtesting.py: RSI strategy {seconds:.2f} s, {len(candles) / seconds / 1e6:.3f} "
          f"M candles/s, {stats['# Trades']} trades")  # fmt: skip
    return seconds


def end_to_end(strategy: TradingStrategy, candles: CandleArrays, fees: FeeSchedule = FEES) -> Any:
    """``run_backtest`` as ``tradefleet backtest`` calls it (default engine)."""
    s = strategy
    return run_backtest(s.definition.id, s.params, candles, PRODUCT, BUDGET, fees, timeframe="1m")


def bench_end_to_end(candles: CandleArrays, repeat: int, variant: str) -> None:
    """What ``tradefleet backtest`` does in-process: ``run_backtest`` with the default
    engine, i.e. the kernel plus the exact fill and deal columns, the equity curve and
    every metric; then, separately, building the exact ``Fill`` and ``DealSummary``
    objects, which only a report (JSON, plot, API) reads."""
    print(f"end to end, run_backtest, {variant} (exact fills and deals as columns, equity,"
          " metrics) | + building the Fill and DealSummary objects:")  # fmt: skip
    fees = fees_for(variant)
    for cls in StrategyRegistry.all():
        strategy = strategy_for(cls.definition.id, candles, variant)

        def run(s: TradingStrategy = strategy) -> Any:
            return end_to_end(s, candles, fees)

        seconds = best_time(run, max(1, repeat // 2))

        def with_objects() -> None:
            result = run()
            list(result.fills), list(result.deals)

        whole = best_time(with_objects, max(1, repeat // 2))
        rate = len(candles) / seconds / 1e6
        fills = len(run().fills)
        print(f"  {cls.definition.id:<12}{seconds:8.3f} s {rate:8.1f} M candles/s"
              f" | {whole:8.3f} s {len(candles) / whole / 1e6:8.1f} M candles/s"
              f" | {fills} fills")  # fmt: skip


def compare_rsi(candles: CandleArrays, repeat: int) -> None:
    """The RSI strategy (full deal logic, defaults) against vectorbt and backtesting.py's
    plain RSI rules: as kernel only and as ``run_backtest`` end to end."""
    rsi = strategy_for("rsi", candles)
    kernel = best_time(lambda: backtest(rsi, candles), repeat)
    whole = best_time(lambda: end_to_end(rsi, candles), max(1, repeat // 2))
    ours = (f"tradefleet rsi (full deal logic): kernel {kernel * 1e3:.1f} ms, "
            f"run_backtest end to end {whole * 1e3:.1f} ms")  # fmt: skip
    vbt_seconds = bench_vectorbt(candles, repeat)
    if vbt_seconds is not None:
        print(f"  {ours}; vectorbt's time / tradefleet's: kernel {vbt_seconds / kernel:.1f}, "
              f"end to end {vbt_seconds / whole:.1f}")  # fmt: skip
    bt_seconds = bench_backtesting(candles)
    if bt_seconds is not None:
        print(f"  {ours}; backtesting.py's time / tradefleet's: kernel "
              f"{bt_seconds / kernel:.0f}, end to end {bt_seconds / whole:.0f}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candles", type=int, default=525_600)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rss-of", help=argparse.SUPPRESS)  # child of peak_rss_mb
    args = parser.parse_args(argv)
    if args.rss_of:
        _rss_child(args.rss_of, args.candles)
        return
    candles = make_candles(args.candles)
    print(f"{len(candles):,} one-minute candles, seed 7, python {sys.version.split()[0]}, "
          f"one core; best of {args.repeat}")  # fmt: skip
    print("deal settings: " + ", ".join(f"{k} {v}" for k, v in DEAL_CONFIG.items()))
    for variant in VARIANTS:
        slowest = bench_strategies(candles, args.repeat, variant)
        print(f"slowest strategy, {variant}: {slowest / 1e6:.1f} M candles/s")
    for variant in VARIANTS:
        bench_end_to_end(candles, args.repeat, variant)
    peaks = {cls.definition.id: peak_rss_mb(cls.definition.id, len(candles))
             for cls in StrategyRegistry.all()}  # fmt: skip
    print("peak RSS of a fresh process backtesting the year (its own VmHWM): "
          + ", ".join(f"{name} {mb:.0f} MB" for name, mb in peaks.items()))  # fmt: skip
    baseline = peak_rss_mb("rsi", BASELINE_CANDLES)
    print(
        f"  the same process over {BASELINE_CANDLES:,} candles (interpreter, numba, TA-Lib): "
        f"rsi {baseline:.0f} MB; this benchmark's own peak so far {own_peak_rss_mb():.0f} MB"
    )
    compare_rsi(candles, args.repeat)


if __name__ == "__main__":
    main()

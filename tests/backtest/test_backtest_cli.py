"""``tradefleet backtest`` end to end: exit codes, the JSON document, exact trades, charts.

The CSV has six one-minute BTC-USD candles. simple_dca (60-minute interval, 2 % take
profit by default) buys 100 USD on the candle at the hour (index 2); the order fills at
the next open, 100: round_down(100 / 100.6, 1e-8) = 0.99403578 BTC for 99.403578 USD
+ 0.596421468 taker fee. The take profit at 102 fills on the next candle, whose high is
exactly 102: 101.39164956 USD less the 0.4 % maker fee, 0.40556659824.
"""

from __future__ import annotations

import importlib.util
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from tests.backtest.backtest_testkit import HOUR, MINUTE, row, write_csv
from typer.testing import CliRunner, Result

from tradefleet.cli import app

T0 = HOUR - 2 * MINUTE
ROWS = [
    row(T0, 100, 100, 100, 100),
    row(T0 + 60, 100, 100, 100, 100),
    row(T0 + 120, 100, 100, 100, 100),
    row(T0 + 180, 100, 100.5, 99.5, 100),
    row(T0 + 240, 100, 102, 99.5, 101),
    row(T0 + 300, 101, 101, 101, 101),
]
CONFIG = '{"buy_amount": 100, "interval_minutes": 60}'
TRADES = [
    {"time": T0 + 180, "side": "buy", "price": "100", "base_amount": "0.99403578",
     "quote_amount": "99.403578", "fee": "0.596421468"},
    {"time": T0 + 240, "side": "sell", "price": "102", "base_amount": "0.99403578",
     "quote_amount": "101.39164956", "fee": "0.40556659824"},
]  # fmt: skip


def _invoke(tmp_path: Path, *extra: str, rows: list[str] | None = None) -> Result:
    """The command over ``rows`` (default ROWS); ``extra`` options override the defaults."""
    data = write_csv(tmp_path / "BTC-USD_1m.csv", ROWS if rows is None else rows)
    options = {
        "--strategy": "simple_dca", "--product": "BTC-USD", "--timeframe": "1m",
        "--data": str(data), "--output": str(tmp_path / "result.json"),
        "--config": CONFIG, "--budget": "1000",
    }  # fmt: skip
    flags = [token for token in extra if token == "--allow-gaps"]
    values = [token for token in extra if token != "--allow-gaps"]
    options.update(zip(values[::2], values[1::2], strict=True))
    args = ["backtest", *flags]
    for option, value in options.items():
        args += [option, value]
    return CliRunner().invoke(app, args)


def _flat(result: Result) -> str:
    return " ".join(result.output.split())


def _document(tmp_path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((tmp_path / "result.json").read_text())
    return loaded


def test_a_backtest_writes_the_documented_json(tmp_path: Path) -> None:
    result = _invoke(tmp_path)
    assert result.exit_code == 0, result.output
    document = _document(tmp_path)
    assert list(document) == ["metrics", "trades", "equity"]
    assert document["trades"] == TRADES
    # simple_dca warms up on one candle, so trading starts at T0 + 60. After the buy the
    # cash is 1000 - 99.403578 - 0.596421468 = 900.000000532, plus 0.99403578 x 100 held.
    assert document["equity"] == [
        [T0 + 60, "1000"], [T0 + 120, "1000"], [T0 + 180, "999.403578532"],
        [T0 + 240, "1000.98608349376"], [T0 + 300, "1000.98608349376"],
    ]  # fmt: skip
    metrics = document["metrics"]
    assert metrics["pnl"] == "0.98608349376"
    assert metrics["fees_paid"] == "1.00198806624"
    # the most paid out: the buy's 99.403578 + fee 0.596421468
    assert metrics["funds_needed_peak"] == "99.999999468"
    assert metrics["total_return_pct"] == pytest.approx(0.098608349376)
    assert metrics["buy_and_hold_return_pct"] == pytest.approx(1.0)
    assert (metrics["deals"], metrics["win_rate_pct"], metrics["sharpe"] is not None) == (
        1,
        100.0,
        True,
    )
    assert metrics["exposure_pct"] == pytest.approx(20.0)
    assert "total return" in result.output and "wrote" in result.output


def test_the_period_options_select_candles(tmp_path: Path) -> None:
    result = _invoke(tmp_path, "--from", str(T0 + 180), "--to", "2023-11-14T22:03")
    assert result.exit_code == 0, result.output
    document = _document(tmp_path)
    assert [point[0] for point in document["equity"]] == [T0 + 180, T0 + 240]
    assert document["trades"] == []  # the hour's BUY (index 2) was before --from


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--strategy", "nope"), "error: unknown strategy 'nope'; known strategies:"),
        (("--config", '{"interval_minutes": 0}'), "error: interval_minutes:"),
        (("--config", "{oops"), "error: --config: not valid JSON"),
        (("--config", "[1]"), "error: --config: must be a JSON object"),
        (("--config", '{"buy_amount": 5000}'), "error: buy_amount: exceeds the budget 1000"),
        (("--budget", "0"), "error: --budget: must be greater than 0"),
        (("--budget", "-5"), "error: --budget: must be greater than 0"),
        (("--budget", "lots"), "error: --budget: 'lots' is not a number"),
        (
            ("--budget", "1000.0000000000000000001"),
            "error: --budget: must have at most 18 decimal places",
        ),
        (("--budget", "1E+21"), "error: --budget: is too large"),
        (("--product", "btcusd"), "error: --product: product id must look like 'ETH-BTC'"),
        (("--timeframe", "7m"), "error: --timeframe: unsupported timeframe '7m'"),
        (("--fee-taker", "1.5"), "error: --fee-taker: must be a fraction at least 0 and below 1"),
        (("--from", "yesterday"), "error: --from: 'yesterday' is neither unix seconds"),
        (("--from", "2030-01-01"), "BTC-USD_1m.csv: no candles in the requested period"),
        (("--plot", "chart.svg"), "error: --plot chart.svg: use a .html or .png file name"),
        (("--engine", "warp"), "error: --engine: unknown backtest engine 'warp'; known:"),
        (
            ("--strategy", "grid", "--config", '{"lower_price": 100.001, "upper_price": 100.002}'),
            "error: backtest stopped: grid levels closer together than the price increment",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    tmp_path: Path, extra: tuple[str, ...], message: str
) -> None:
    result = _invoke(tmp_path, *extra)
    assert result.exit_code == 2, result.output
    assert _flat(result).startswith("error: ") and message in _flat(result)
    assert "Traceback" not in result.output
    assert not (tmp_path / "result.json").exists()


def test_bad_data_is_exit_code_2_naming_file_and_line(tmp_path: Path) -> None:
    unsorted = _invoke(tmp_path, rows=[ROWS[1], ROWS[0], *ROWS[2:]])
    assert unsorted.exit_code == 2
    assert f"BTC-USD_1m.csv:3: timestamp {T0} is before {T0 + 60} (not sorted)" in _flat(unsorted)
    gappy = _invoke(tmp_path, rows=[ROWS[0], *ROWS[2:]])
    assert gappy.exit_code == 2
    assert "BTC-USD_1m.csv:3: 1 missing 1m candle(s)" in _flat(gappy)
    assert "pass --allow-gaps" in _flat(gappy)
    accepted = _invoke(tmp_path, "--allow-gaps", rows=[ROWS[0], *ROWS[2:]])
    assert accepted.exit_code == 0, accepted.output
    assert "1 gap(s)" in _flat(accepted)
    missing = CliRunner().invoke(
        app,
        ["backtest", "--strategy", "rsi", "--product", "ETH-BTC", "--timeframe", "5m",
         "--data", str(tmp_path / "none.csv"), "--output", str(tmp_path / "r.json")],
    )  # fmt: skip
    assert missing.exit_code == 2
    assert _flat(missing) == f"error: {tmp_path / 'none.csv'}: no such file"


def test_an_unwritable_output_is_exit_code_2(tmp_path: Path) -> None:
    result = _invoke(tmp_path, "--output", str(tmp_path / "missing" / "r.json"))
    assert result.exit_code == 2
    assert _flat(result).startswith(f"error: --output {tmp_path / 'missing' / 'r.json'}: cannot")


def test_an_html_chart_is_self_contained(tmp_path: Path) -> None:
    chart = tmp_path / "chart.html"
    result = _invoke(tmp_path, "--plot", str(chart))
    assert result.exit_code == 0, result.output
    page = chart.read_text()
    assert "<script" not in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")
    svg = ET.fromstring(page[page.index("<svg") : page.index("</svg>") + len("</svg>")])
    ns = "{http://www.w3.org/2000/svg}"
    markers = svg.findall(f"{ns}polygon")
    assert [m.get("fill") for m in markers] == ["#1a9850", "#d73027"]  # one buy, one sell
    assert len(svg.findall(f"{ns}polyline")) == 2  # price and equity


def test_a_png_chart_needs_matplotlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chart = tmp_path / "chart.png"
    real = importlib.util.find_spec
    if real("matplotlib") is not None:
        assert _invoke(tmp_path, "--plot", str(chart)).exit_code == 0
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name)
    )
    result = _invoke(tmp_path, "--plot", str(tmp_path / "other.png"))
    assert result.exit_code == 2
    assert _flat(result) == (
        "error: PNG plots need matplotlib: pip install 'tradefleet[plot]' (or use .html)"
    )


def test_a_terminal_gets_a_progress_bar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    from tradefleet.backtest import command

    screen = io.StringIO()
    monkeypatch.setattr(command, "console", Console(file=screen, force_terminal=True, width=120))
    monkeypatch.setattr(command, "PROGRESS_MIN_CANDLES", 1)
    updates: list[int] = []
    real_run = command.run_backtest

    def spy(*args: Any, **kwargs: Any) -> Any:
        progress = kwargs["progress"]
        assert progress is not None
        kwargs["progress"] = lambda done, total: (updates.append(done), progress(done, total))
        return real_run(*args, **kwargs)

    monkeypatch.setattr(command, "run_backtest", spy)
    result = _invoke(tmp_path)
    assert result.exit_code == 0, result.output
    assert updates[-1] == 5
    assert "total return" in screen.getvalue()


def test_the_warmup_candles_left_untraded_are_named(tmp_path: Path) -> None:
    # simple_dca needs one candle of history, so without --from candle T0 only warms up.
    whole = _invoke(tmp_path)
    assert whole.exit_code == 0, whole.output
    assert whole.stderr.splitlines() == [
        "note: the first candle of the file is the strategy's warm-up and is not traded"
    ]
    wider = _invoke(tmp_path, "--strategy", "bollinger", "--config", '{"bb_period": 2}')
    assert wider.exit_code == 0, wider.output
    assert wider.stderr.splitlines() == [
        "note: the first 2 candles of the file are the strategy's warm-up and are not traded"
    ]
    # --from at the file's first candle: that candle lacks its history, so it is not traded.
    late = _invoke(tmp_path, "--from", str(T0))
    assert late.stderr.splitlines() == [
        "note: the first 1 candle(s) of the period were not traded: the file has too little "
        "history before them for the strategy's indicators"
    ]
    # --from one candle later: the candle before it is the warm-up, as asked; nothing to say.
    assert _invoke(tmp_path, "--from", str(T0 + 60)).stderr == ""


@pytest.mark.parametrize(("kernel_from", "expected"), [(6, "reference"), (5, "kernel")])
def test_auto_picks_the_reference_loop_for_short_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kernel_from: int, expected: str
) -> None:
    """Five traded candles: the reference below the threshold, the kernel from it on; the
    document is the same, and naming an engine overrides the choice."""
    from tradefleet.backtest import command

    engines: list[str] = []
    real_run = command.run_backtest

    def spy(*args: Any, **kwargs: Any) -> Any:
        engines.append(kwargs["engine"])
        return real_run(*args, **kwargs)

    monkeypatch.setattr(command, "run_backtest", spy)
    monkeypatch.setattr(command, "KERNEL_FROM_CANDLES", kernel_from)
    assert _invoke(tmp_path).exit_code == 0
    auto = (tmp_path / "result.json").read_bytes()
    other = "kernel" if expected == "reference" else "reference"
    assert _invoke(tmp_path, "--engine", other).exit_code == 0
    assert engines == [expected, other]
    assert (tmp_path / "result.json").read_bytes() == auto
    assert _document(tmp_path)["trades"] == TRADES

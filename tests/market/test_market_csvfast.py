"""The bulk CSV reading accepts exactly what the row-by-row reader accepts, with its values.

``read_candle_csv`` parses a plain file with numpy and only falls back to the csv module
for anything else; a file both would read must give the same arrays, and a bad file the
row reader's message with its line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradefleet.domain import CandleArrays
from tradefleet.market.csvfile import (
    CandleFileError,
    _read_fast,
    _read_slow,
    read_candle_csv,
)

HEADER = "timestamp,open,high,low,close,volume"
T0 = 1_700_000_000


def _columns(arrays: CandleArrays) -> list[list[float]]:
    return [getattr(arrays, name).tolist() for name in ("time", "open", "high", "low", "close")] + [
        arrays.volume.tolist()
    ]


def _outcome(path: Path, read: object) -> object:
    try:
        arrays = read(path)  # type: ignore[operator]
    except (CandleFileError, ValueError, OverflowError) as error:
        return (type(error).__name__, str(error))
    assert arrays.time.dtype == np.int64 and arrays.close.dtype == np.float64
    return _columns(arrays)


def test_a_plain_crlf_file_is_read_in_bulk_with_exact_values(tmp_path: Path) -> None:
    path = tmp_path / "ETH-USD_1m.csv"
    rows = [
        f"{T0},2000.0,2000.92,1998.64,2000.0,1.0",
        f"{T0 + 60},0.1,0.30000000000000004,0.1,0.2,1e-05",
    ]
    path.write_bytes(("\r\n".join([HEADER, *rows]) + "\r\n").encode())
    fast = _read_fast(path)
    assert fast is not None
    assert _columns(fast) == [
        [T0, T0 + 60],
        [2000.0, 0.1],
        [2000.92, 0.30000000000000004],
        [1998.64, 0.1],
        [2000.0, 0.2],
        [1.0, 1e-05],
    ]
    assert _columns(read_candle_csv(path)) == _columns(fast)


@pytest.mark.parametrize(
    "body",
    [
        f'"{T0}",1,2,0.5,1.5,3\n',  # quoted: csv unquotes it
        f"{T0}, 1,2,0.5,1.5,3\n",  # float() takes the space
        f"{T0},1,2,0.5,1.5,3\r",  # a lone carriage return ends the line for csv
    ],
    ids=["quoted", "space", "cr"],
)
def test_files_only_the_row_reader_understands_still_read(tmp_path: Path, body: str) -> None:
    path = tmp_path / "ETH-USD_1m.csv"
    path.write_bytes(("\ufeff" + HEADER + "\n" + body).encode())
    assert _read_fast(path) is None
    assert _columns(read_candle_csv(path)) == [[T0], [1.0], [2.0], [0.5], [1.5], [3.0]]


def test_errors_after_blank_lines_name_the_file_line(tmp_path: Path) -> None:
    path = tmp_path / "ETH-USD_1m.csv"
    good = f"{T0},1,2,0.5,1.5,3"
    path.write_text(f"{HEADER}\n{good}\n\n{T0 + 60},1,2,0.5,1.5,3\n{T0 + 60},1,2,0.5,1.5,3\n")
    with pytest.raises(
        CandleFileError, match=rf"ETH-USD_1m\.csv:5: duplicate timestamp {T0 + 60}$"
    ):
        read_candle_csv(path)


_TOKENS = st.sampled_from(
    ["1", "2", "0.5", "1.5", "2.5", "0", "-1", "+1", "1e0", "1.", ".5", "nan", "inf", "1e999",
     "", " 1", "1_0", '"1"', "x", "100000000000", "99999999999999999999", "-9999999999999999999999"]
)  # fmt: skip


@st.composite
def _files(draw: st.DrawFn) -> str:
    lines = [HEADER]
    time = T0
    for _ in range(draw(st.integers(0, 6))):
        time += draw(st.sampled_from([60, 60, 60, 0, -60]))
        stamp = draw(st.sampled_from([str(time)] * 6 + [f"{time}.0", f"+{time}", "", "1e9"]))
        fields = [stamp] + [draw(_TOKENS) for _ in range(draw(st.sampled_from([5, 5, 5, 4, 6])))]
        lines.append(",".join(fields))
        if draw(st.booleans()) and draw(st.booleans()):
            lines.append("")
    return draw(st.sampled_from(["\n", "\r\n"])).join(lines) + "\n"


@settings(max_examples=300, deadline=None)
@given(text=_files())
def test_bulk_and_row_readers_agree_on_any_file(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("csv") / "ETH-USD_1m.csv"
    path.write_bytes(text.encode())
    assert _outcome(path, read_candle_csv) == _outcome(path, _read_slow)


_PRICES = st.floats(min_value=1e-12, max_value=1e12, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(
    bodies=st.lists(st.tuples(_PRICES, _PRICES, _PRICES, st.floats(0, 1e9)), min_size=1),
    crlf=st.booleans(),
)
def test_valid_files_are_read_in_bulk_as_the_rows_read(
    tmp_path_factory: pytest.TempPathFactory,
    bodies: list[tuple[float, float, float, float]],
    crlf: bool,
) -> None:
    rows = []
    for i, (a, b, c, volume) in enumerate(bodies):
        low, open_, high = sorted((a, b, c))
        rows.append(f"{T0 + 60 * i},{open_!r},{high!r},{low!r},{open_!r},{volume!r}")
    path = tmp_path_factory.mktemp("csv") / "ETH-USD_1m.csv"
    path.write_bytes(("\r\n" if crlf else "\n").join([HEADER, *rows]).encode())
    fast = _read_fast(path)
    assert fast is not None
    assert _columns(fast) == _columns(_read_slow(path))

"""A backtest's product id names a file of the candle store: ids that would name a file
elsewhere are refused (422 on ``product_id``) whether that file exists or not, and no
error repeats a byte of it; the store's own name rules refuse them too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from api_testkit import ADMIN_PASSWORD, make_settings, snapshot
from backtests_testkit import backtest_payload, write_candles
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.config import Settings
from tradefleet.data.store import find_candle_file, store_file_name, store_path

SECRET = "root:x:0:0:secret-content"
RULE = (
    "product id must look like 'ETH-BTC' (BASE-QUOTE: capital letters and digits, at most 12 "
    "each), got "
)
OUTSIDE_IDS = [
    "../OUT-SIDE",  # tmp/candles/../OUT-SIDE_1m.csv: exists
    "../../../ETC/PASSWD-X",
    "/ETC/PASSWD-X",
    "..\\OUT-SIDE",
    "ETH-BTC\x00",
    "OUT-SIDE/../../OUT-SIDE",
    "btc-usd",  # case matters: the market and the store both name it BTC-USD
    "BTC-USD ",
    "BTC-USD\n",
    "ABCDEFGHIJKLM-USD",  # 13 characters: no currency column holds it
]


@pytest.fixture
def candle_dir(tmp_path: Path) -> Path:
    return tmp_path / "candles"


@pytest.fixture
def settings(candle_dir: Path) -> Settings:
    return make_settings(admin_password=SecretStr(ADMIN_PASSWORD), candle_dir=candle_dir)


@pytest.fixture
def outside(tmp_path: Path, candle_dir: Path) -> Path:
    """The store exists; next to it lies a file that is not a candle file."""
    write_candles(candle_dir)
    path = tmp_path / "OUT-SIDE_1m.csv"
    path.write_text(SECRET + "\n")
    return path


@pytest.mark.parametrize("product_id", OUTSIDE_IDS)
def test_ids_outside_the_store_are_422_on_product_id(
    api: TestClient, session_factory: sessionmaker[Session], outside: Path, product_id: str
) -> None:
    with session_factory() as session:
        before = snapshot(session)
    answer = api.post("/api/backtests", json=backtest_payload(product_id=product_id))
    assert answer.status_code == 422, answer.text
    error = {"loc": ["body", "product_id"], "msg": RULE + repr(product_id), "type": "value_error"}
    assert answer.json() == {"detail": [error]}
    assert "secret" not in answer.text
    assert api.get("/api/backtests").json()["count"] == 0
    with session_factory() as session:
        assert snapshot(session) == before


def test_an_existing_and_a_missing_outside_file_answer_alike(
    api: TestClient, outside: Path
) -> None:
    """The answer does not tell whether a file exists outside the store."""
    there = api.post("/api/backtests", json=backtest_payload(product_id="../OUT-SIDE"))
    absent = api.post("/api/backtests", json=backtest_payload(product_id="../NOT-THERE"))
    assert (there.status_code, absent.status_code) == (422, 422)
    assert there.json()["detail"][0]["msg"] == RULE + "'../OUT-SIDE'"
    assert absent.json()["detail"][0]["msg"] == RULE + "'../NOT-THERE'"


def test_a_long_rejected_id_is_repeated_only_in_part(api: TestClient, outside: Path) -> None:
    long_id = "../" + "A" * 37  # 40 characters: the longest the field takes
    answer = api.post("/api/backtests", json=backtest_payload(product_id=long_id))
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["msg"] == RULE + repr("../" + "A" * 27 + "…")


@pytest.mark.parametrize("product_id", ["../OUT-SIDE", "/ETC/PASSWD-X", "ETH-BTC\x00", "eth-btc"])
def test_the_store_never_names_a_file_outside_itself(outside: Path, product_id: str) -> None:
    store = outside.parent / "candles"
    with pytest.raises(ValueError, match="product id must look like 'ETH-BTC'"):
        find_candle_file(store, product_id, "1m")
    with pytest.raises(ValueError, match="product id must look like 'ETH-BTC'"):
        store_file_name(product_id, "1m")


def test_store_names_need_a_known_timeframe(candle_dir: Path) -> None:
    assert store_path(candle_dir, "ETH-BTC", "5m") == candle_dir / "ETH-BTC_5m.csv"
    assert store_file_name("1INCH-USD", "1d", ".parquet") == "1INCH-USD_1d.parquet"
    with pytest.raises(ValueError, match=re.escape("unsupported timeframe '../x'")):
        store_path(candle_dir, "ETH-BTC", "../x")

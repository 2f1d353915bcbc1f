"""A grid bot is checked against its product when it is created or edited: one that
could never trade (the default range on BTC-USD, levels closer than the price increment,
level buys below the minimum order) is a 422 naming the field, and nothing is stored.

BTC-USD here: price increment 0.01, base increment 1e-8, minimum order 1 USD."""

from __future__ import annotations

from typing import Any

import pytest
from api_testkit import bot_payload, snapshot
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

RANGE = "a grid bot needs its price range: set lower_price and upper_price around BTC-USD's price"
GOOD = {"lower_price": 60000, "upper_price": 70000, "levels": 11, "quote_per_level": 5}


def _grid(config: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    fields = {"strategy_type": "grid", "strategy_config": config, "product_id": "BTC-USD",
              "budget": "100", **overrides}  # fmt: skip
    return bot_payload(**fields)


def _error(field: str, msg: str) -> dict[str, Any]:
    return {"loc": ["body", "strategy_config", field], "msg": msg, "type": "value_error"}


REFUSED = [
    pytest.param(
        {},
        [_error("lower_price", RANGE), _error("upper_price", RANGE)],
        id="default-range",
    ),
    pytest.param({"upper_price": 70000}, [_error("lower_price", RANGE)], id="no-lower-bound"),
    pytest.param(
        {"lower_price": 60000, "upper_price": 70000},
        [_error("quote_per_level",
                "0.001 USD per level is below BTC-USD's minimum order of 1 USD")],
        id="default-quote-per-level",
    ),
    pytest.param(
        {"lower_price": 100, "upper_price": 100.05, "levels": 10, "quote_per_level": 5},
        [_error("levels",
                "10 levels from 100 to 100.05 are closer together than BTC-USD's price "
                "increment 0.01: use fewer levels or a wider range")],
        id="levels-closer-than-the-tick",
    ),
    pytest.param(
        {"lower_price": 60000, "upper_price": 70000, "levels": 3, "quote_per_level": 1},
        # 1 / 65000 = 0.0000153846… BTC, rounded down to 0.00001538, is 0.9997 USD
        [_error("quote_per_level",
                "BTC-USD would refuse the buy at 65000 (order value 0.99970000 below "
                "minimum 1): raise quote_per_level")],
        id="level-value-below-minimum-after-rounding",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("config", "detail"), REFUSED)
def test_a_grid_that_could_never_trade_is_refused(
    api: TestClient,
    session_factory: sessionmaker[Session],
    config: dict[str, Any],
    detail: list[dict[str, Any]],
) -> None:
    with session_factory() as session:
        before = snapshot(session)
    answer = api.post("/api/bots", json=_grid(config))
    assert (answer.status_code, answer.json()) == (422, {"detail": detail})
    with session_factory() as session:
        assert snapshot(session) == before


def test_a_grid_within_the_product_rules_is_created(api: TestClient) -> None:
    answer = api.post("/api/bots", json=_grid(GOOD))
    assert answer.status_code == 201, answer.text
    assert answer.json()["strategy_config"] == {
        "lower_price": 60000.0, "upper_price": 70000.0, "levels": 11,
        "spacing": "arithmetic", "quote_per_level": 5.0,
    }  # fmt: skip


def test_an_edit_is_checked_against_the_bots_own_product(
    api: TestClient, session_factory: sessionmaker[Session]
) -> None:
    bot = api.post("/api/bots", json=_grid(GOOD)).json()
    path = f"/api/bots/{bot['id']}"
    with session_factory() as session:
        before = snapshot(session)
    answer = api.put(path, json={"strategy_config": {"quote_per_level": 0.5}})
    assert (answer.status_code, answer.json()) == (
        422,
        {"detail": [_error("quote_per_level",
                           "0.5 USD per level is below BTC-USD's minimum order of 1 USD")]},
    )  # fmt: skip
    with session_factory() as session:
        assert snapshot(session) == before
    renamed = api.put(path, json={"name": "still a grid"})
    assert renamed.status_code == 200, renamed.text


def test_a_move_is_checked_against_the_new_product(api: TestClient) -> None:
    eth = {"lower_price": 0.04, "upper_price": 0.06, "levels": 11, "quote_per_level": 0.5}
    bot = api.post("/api/bots", json=_grid(eth, product_id="ETH-BTC", budget="10")).json()
    answer = api.put(f"/api/bots/{bot['id']}", json={"product_id": "BTC-USD"})
    assert (answer.status_code, answer.json()) == (
        422,
        {"detail": [_error("levels",
                           "11 levels from 0.04 to 0.06 are closer together than BTC-USD's "
                           "price increment 0.01: use fewer levels or a wider range")]},
    )  # fmt: skip
    assert api.get(f"/api/bots/{bot['id']}").json()["product_id"] == "ETH-BTC"


def test_a_bot_becoming_a_grid_must_name_its_range(api: TestClient) -> None:
    bot = api.post("/api/bots", json=bot_payload(product_id="BTC-USD", budget="100")).json()
    answer = api.put(f"/api/bots/{bot['id']}", json={"strategy_type": "grid"})
    assert (answer.status_code, answer.json()) == (
        422,
        {"detail": [_error("lower_price", RANGE), _error("upper_price", RANGE)]},
    )
    changed = api.put(
        f"/api/bots/{bot['id']}", json={"strategy_type": "grid", "strategy_config": GOOD}
    )
    assert changed.status_code == 200, changed.text

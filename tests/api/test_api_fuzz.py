"""Schemathesis fuzzes every operation of the OpenAPI schema on the in-process app, on SQLite
and on PostgreSQL, logged in, with seeded bots, deals and fills, a finished backtest and a
candle file; half the generated ids, products and strategies name ones that exist, so the
cases reach the success answers too. Every answer must be one the schema documents: never a
5xx, a documented status code and content type, a body and headers matching their schemas,
input the schema forbids refused, input it allows accepted or refused only for a rule it
cannot say (``UNSAYABLE``), a 405 with the right ``Allow``, a missing token refused.

The run is repeatable (fixed seed, no example database) and bounded for CI:
``TRADEFLEET_FUZZ_EXAMPLES`` (default 15) examples per operation in the fuzzing phase, plus the
examples and coverage phases. Run it with e.g. ``TRADEFLEET_FUZZ_EXAMPLES=500`` to look harder;
``-s`` prints how many cases ran and what they answered.
"""

from __future__ import annotations

import dataclasses
import os
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_testkit import ADMIN_PASSWORD, RecordingEngine, make_settings, seed_deals
from backtests_testkit import ROWS, backtest_payload, wait_until_finished, write_candles
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.api.app import create_app
from tradefleet.api.deps import ApiContext
from tradefleet.api.schemas.common import MAX_ROW_ID
from tradefleet.api.throttle import LoginThrottle
from tradefleet.db.models import Base
from tradefleet.db.session import make_engine, make_session_factory
from tradefleet.strategies import StrategyRegistry

EXAMPLES = int(os.environ.get("TRADEFLEET_FUZZ_EXAMPLES", "15"))
CONFIG: dict[str, Any] = {
    "seed": 20240501,
    "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
}
ANSWERS: Counter[tuple[str, int]] = Counter()  # (operation, status) of every case, for -s


# What exists: seed_deals' ids on a fresh database (SQLite file, or PostgreSQL with RESTART
# IDENTITY), the market's products (ETH-BTC; BTC-USD also has candles) and the strategies.
EXISTING: dict[str, list[Any]] = {
    "bot_id": [1, 2],
    "position_id": [1, 2, 3],
    "backtest_id": [1],
    "product_id": ["ETH-BTC", "BTC-USD"],
    "strategy_id": [d.id for d in StrategyRegistry.definitions()],
}
CANDLES_FROM, CANDLES_TO = ROWS[0][0], ROWS[-1][0] + 60  # BTC-USD 1m


@dataclasses.dataclass(frozen=True)
class FuzzApp:
    app: FastAPI
    token: str


@pytest.fixture
def fuzz_app(session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[FuzzApp]:
    """The API on seeded data. Its login throttle never locks out: the fuzz sends thousands
    of wrong passwords from one client (production keeps ``LoginThrottle()``'s limits)."""
    seeded = seed_deals(session_factory)
    assert [seeded.eth_bot, seeded.usd_bot] == EXISTING["bot_id"]
    write_candles(tmp_path / "candles")
    settings = make_settings(
        admin_password=SecretStr(ADMIN_PASSWORD), candle_dir=tmp_path / "candles"
    )
    app = create_app(settings, session_factory, RecordingEngine())
    context = app.state.context
    assert isinstance(context, ApiContext)
    app.state.context = dataclasses.replace(context, login_throttle=LoginThrottle(attempts=10**9))
    with TestClient(app) as client:
        login = client.post(
            "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        run = client.post("/api/backtests", json=backtest_payload())  # backtest 1, with results
        assert wait_until_finished(client, run.json()["id"])["status"] == "done"
        yield FuzzApp(app, token)
    context.backtests.shutdown()  # no run outlives the test (PostgreSQL is emptied next)
    if ANSWERS:
        print(f"\nfuzz: {sum(ANSWERS.values())} cases")
        for (operation, status), count in sorted(ANSWERS.items()):
            print(f"  {operation} {status}: {count}")
        ANSWERS.clear()


def _document_app() -> FastAPI:
    """An app on a throwaway in-memory database, only to read the OpenAPI schema (which does
    not depend on the database); each test calls its own app on the real one."""
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    return create_app(make_settings(), make_session_factory(engine), RecordingEngine())


schema = schemathesis.openapi.from_asgi(
    "/openapi.json", _document_app(), config=schemathesis.Config.from_dict(CONFIG)
)


@schema.hook
def before_generate_path_parameters(
    _context: schemathesis.HookContext, strategy: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """Half the ids name rows that exist, or nearly every case would be a 404."""
    return st.one_of(strategy, strategy.flatmap(_existing))


def _existing(values: Any) -> st.SearchStrategy[Any]:
    if not isinstance(values, dict):
        return st.just(values)
    fixed = {
        name: st.sampled_from(EXISTING[name])
        for name, value in values.items()
        if name in EXISTING and _valid_id(value)
    }
    return st.fixed_dictionaries({**{k: st.just(v) for k, v in values.items()}, **fixed})


def _valid_id(value: Any) -> bool:
    """A generated value the schema allows (a negative case's bad one stays bad)."""
    return isinstance(value, str) or (isinstance(value, int) and 1 <= value <= MAX_ROW_ID)


@schema.hook
def map_case(_context: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    """Half the schema-valid bodies and queries name a known product and strategy (with its
    default parameters), so the fuzz reaches the 200s, 201s and 202s, not only the 422s."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    for part in (case.body, case.query):
        if not isinstance(part, dict) or zlib.crc32(repr(sorted(part.items())).encode()) % 2:
            continue
        for name in ("product_id", "strategy_type"):
            if isinstance(part.get(name), str):
                known = EXISTING["strategy_id" if name == "strategy_type" else name]
                part[name] = known[zlib.crc32(part[name].encode()) % len(known)]
        if "strategy_type" in part and isinstance(part.get("strategy_config"), dict):
            part["strategy_config"] = {}
        if "start" in part and "end" in part:  # a backtest: over the candle file
            part.update(product_id="BTC-USD", timeframe="1m", start=CANDLES_FROM, end=CANDLES_TO)
    return case


# Rules a schema cannot say, with the error (location, type) each gives: a 422 they give to
# input the schema allows is a documented answer, any other 422 to such input is a schema
# that lies (it is why the built-in positive_data_acceptance, which takes no 422, is off).
UNSAYABLE: dict[tuple[str | int, ...], tuple[str, ...]] = {
    # the market's products, the registry's strategies and each one's parameters, and the
    # budget against the orders those parameters make: checked by the service
    ("body", "product_id"): ("value_error",),
    ("query", "product_id"): ("value_error",),
    ("body", "strategy_type"): ("value_error",),
    ("body", "strategy_config"): ("value_error",),  # and every parameter under it
    ("body", "budget"): ("value_error", "decimal_max_places", "decimal_max_digits"),
    # a backtest's end after its start
    ("body", "end"): ("value_error",),
    # the live account, on a server that trades live with keys that work (this one: paper)
    ("body", "account"): ("value_error",),
    # a cursor is one the server gave (opaque: the pattern says its form, not which numbers
    # make one of this list's rows)
    ("query", "cursor"): ("value_error",),
    # a JSON number's decimal places (at most 18; multipleOf is inexact on floats)
    ("body", "fees"): ("decimal_max_places", "decimal_max_digits"),
    ("body", "fee_taker"): ("decimal_max_places", "decimal_max_digits"),
    ("body", "fee_maker"): ("decimal_max_places", "decimal_max_digits"),
    ("body", "slippage"): ("decimal_max_places", "decimal_max_digits"),
}
ANYWHERE = ("datetime_range",)  # a valid date-time with an offset that leaves years 1-9999
# a lone surrogate in a text: a UTF-16 matter JSON Schema patterns cannot name
LONE_SURROGATE = "lone surrogate"


def _unsayable(error: dict[str, Any]) -> bool:
    loc = tuple(error["loc"])
    if error["type"] in ANYWHERE or LONE_SURROGATE in error["msg"]:
        return True
    return any(loc[: len(prefix)] == prefix and error["type"] in kinds
               for prefix, kinds in UNSAYABLE.items())  # fmt: skip


def schema_valid_input_is_refused_only_by_unsayable_rules(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """Input the schema allows is accepted, or refused for a rule the schema cannot say."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code == 422:
        said = [e for e in response.json()["detail"] if not _unsayable(e)]
        assert not said, f"schema-valid input refused: {said}"
    else:
        assert response.status_code < 400 or response.status_code in (401, 404, 409, 429), (
            f"schema-valid input answered {response.status_code}"
        )
    return None


@schema.parametrize()
@settings(
    # the app and its database live through all of an operation's cases, as a server's do
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)
def test_every_answer_is_documented(case: schemathesis.Case, fuzz_app: FuzzApp) -> None:
    auth = {"Authorization": f"Bearer {fuzz_app.token}"}
    response = case.call(app=fuzz_app.app, headers=auth)
    ANSWERS[(f"{case.method} {case.path}", response.status_code)] += 1
    case.validate_response(
        response,
        headers=auth,
        transport_kwargs={"app": fuzz_app.app},
        excluded_checks=[positive_data_acceptance],
        additional_checks=[schema_valid_input_is_refused_only_by_unsayable_rules],
    )

"""POST /api/emergency-stop: the engine is asked, and its report answered as it is."""

from __future__ import annotations

from api_testkit import RecordingEngine
from fastapi.testclient import TestClient


def test_the_engine_s_report_is_the_answer(api: TestClient, engine: RecordingEngine) -> None:
    answer = api.post("/api/emergency-stop", json={"sell_all": True})
    assert answer.status_code == 200
    assert answer.json() == {
        "sell_all": True,
        "bots_halted": 1,
        "orders_cancelled": 2,
        "sells_placed": 1,
        "problems": ["bot 1 (one): a problem"],
        "bots": [{"bot_id": 1, "name": "one", "orders_cancelled": 2, "sells_placed": 1,
                  "problems": ["a problem"]}],
    }  # fmt: skip
    assert api.post("/api/emergency-stop").json()["sell_all"] is False  # no body: no sells
    assert engine.calls == [("emergency_stop", 1), ("emergency_stop", 0)]
    refused = api.post("/api/emergency-stop", json={"sell_all": 1})
    assert (refused.status_code, refused.json()["detail"][0]["loc"]) == (422, ["body", "sell_all"])
    assert len(engine.calls) == 2

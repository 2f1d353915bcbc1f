"""``tradefleet serve`` on the exchange market of a (fake) exchange whose clock is two
hours ahead of this machine's: ``/api/health`` reports the skew it measured, and the
market counts as reachable (its candles are asked for on the exchange's clock)."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_e2e_serve_proxies import serving
from tests.fakes.coinbase_private import fake_account_in_thread

AHEAD = 7200.0


def test_health_reports_the_exchange_clock_s_skew(tmp_path: Path) -> None:
    with fake_account_in_thread() as (account, _loop):
        account.offset = AHEAD
        settings = {
            "TRADEFLEET_MARKET": "exchange",
            "TRADEFLEET_EXCHANGE_API_URL": account.fake.url,
        }
        with serving(tmp_path, **settings) as (client, _log):
            health = client.get("/api/health").json()
    clock = health["engine"]["clock"]
    assert clock["clock"] == "exchange"
    assert abs(clock["skew_seconds"] - AHEAD) < 2.0
    assert clock["last_error"] is None
    assert health["engine"]["market"]["ok"] is True

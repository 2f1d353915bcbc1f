"""``tradefleet serve`` as a real process: X-Forwarded-For is believed only from
``TRADEFLEET_TRUSTED_PROXIES``, the login throttle holds either way, credentials in
``TRADEFLEET_EXCHANGE_API_URL`` show neither in ``/api/health`` nor in the log, and the
log level governs the access log."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

PASSWORD = "e2e-admin-password"
OFFLINE = (
    "the exchange's market data is unreachable; to try tradefleet offline set "
    "TRADEFLEET_MARKET=simulated"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(workdir: Path, **env: str) -> Iterator[tuple[httpx.Client, Path]]:
    """A server on a free port with ``env`` (TRADEFLEET_*), its client and its log file;
    killed afterwards."""
    port, log = _free_port(), workdir / "serve.log"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TRADEFLEET_")},
        "TRADEFLEET_MARKET": "simulated",
        "TRADEFLEET_DATABASE_URL": f"sqlite:///{workdir}/tradefleet.db",
        "TRADEFLEET_ADMIN_PASSWORD": PASSWORD,
        **env,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tradefleet", "serve", "--port", str(port)],
            cwd=workdir, env=environment, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.get("/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            assert process.poll() is None, log.read_text()
            time.sleep(0.2)
        yield client, log
    finally:
        client.close()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)


def _login(client: httpx.Client, password: str, forwarded_for: str) -> int:
    answer = client.post(
        "/api/auth/login",
        json={"username": "admin", "password": password},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return answer.status_code


def test_forwarded_addresses_are_ignored_by_default(tmp_path: Path) -> None:
    with serving(tmp_path) as (client, _log):
        for n in range(5):
            assert _login(client, "guess", f"10.0.0.{n}") == 401
        # a new address in the header is not a new client: still 127.0.0.1
        assert _login(client, "guess", "10.0.0.99") == 429
        assert _login(client, PASSWORD, "10.0.0.100") == 429


def test_a_trusted_proxy_names_the_client_and_the_account_limit_holds(tmp_path: Path) -> None:
    with serving(tmp_path, TRADEFLEET_TRUSTED_PROXIES="127.0.0.1") as (client, _log):
        for _ in range(5):
            assert _login(client, "guess", "10.0.0.1") == 401
        assert _login(client, "guess", "10.0.0.1") == 429  # that client waits...
        assert _login(client, PASSWORD, "10.0.0.2") == 200  # ...another does not
        # the success cleared the account: twenty failures over twenty addresses block it
        for n in range(20):
            assert _login(client, "guess", f"10.1.0.{n}") == 401
        assert _login(client, PASSWORD, "10.2.0.1") == 429


def test_exchange_credentials_show_neither_in_health_nor_in_the_log(tmp_path: Path) -> None:
    url = f"http://user:PASS@127.0.0.1:{_free_port()}/base?token=TOKSECRET"
    env = {"TRADEFLEET_MARKET": "exchange", "TRADEFLEET_EXCHANGE_API_URL": url}
    with serving(tmp_path, **env) as (client, log):
        token = client.post(
            "/api/auth/login", json={"username": "admin", "password": PASSWORD}
        ).json()["access_token"]
        created = client.post(
            "/api/bots",
            headers={"Authorization": f"Bearer {token}"},
            json={"name": "x", "strategy_type": "rsi", "product_id": "BTC-USD",
                  "timeframe": "5m", "budget": "100"},
        )  # fmt: skip
        assert (created.status_code, created.json()) == (
            503,
            {"detail": f"could not look up product BTC-USD: {OFFLINE}"},
        )
        health = client.get("/api/health")
        market = health.json()["engine"]["market"]
        assert (health.json()["status"], market["ok"], market["message"]) == (
            "degraded",
            False,
            OFFLINE,
        )
        time.sleep(0.5)  # let the log lines reach the file
        shown = health.text + log.read_text()
        assert "127.0.0.1" in market["last_error"]
        assert "PASS" not in shown
        assert "TOKSECRET" not in shown


def test_the_log_level_setting_governs_the_access_log_too(tmp_path: Path) -> None:
    """At WARNING a request writes no log line (uvicorn's access log used to stay at INFO
    whatever the setting said); at INFO each request is logged with its status."""
    for level, logged in (("WARNING", False), ("INFO", True)):
        workdir = tmp_path / level
        workdir.mkdir()
        with serving(workdir, TRADEFLEET_LOG_LEVEL=level) as (client, log):
            assert client.get("/api/strategies").status_code in (200, 401)
            time.sleep(0.3)  # the access line is written after the answer
            text = log.read_text()
        assert ('"GET /api/strategies HTTP/1.1"' in text) is logged, text

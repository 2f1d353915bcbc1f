"""Credentials in ``TRADEFLEET_EXCHANGE_API_URL`` never show: not in the exchange's errors,
the market's health, a log line or a traceback; and a market that cannot be reached says
how to try tradefleet offline."""

from __future__ import annotations

import io
import logging
import socket

import pytest

from tradefleet.market.base import OFFLINE_HINT, ManualClock, MarketUnavailable
from tradefleet.market.exchange import ExchangeSource
from tradefleet.market.service import MarketService
from tradefleet.redact import RedactingFilter, redact_text, redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:PASS@host:8080/v3?x=1", "http://***@host:8080/v3?x=1"),
        ("https://TOKEN@host/", "https://***@host/"),
        ("https://a:b:c@d@host/p", "https://***@host/p"),
        (
            "https://host/p?api_key=K&limit=5&token=T",
            "https://host/p?api_key=***&limit=5&token=***",
        ),
        (
            "https://host/?Secret=S&PassWord=P&sig=X",
            "https://host/?Secret=***&PassWord=***&sig=***",
        ),
        ("postgresql+psycopg://trader:pw@db:5432/tf", "postgresql+psycopg://***@db:5432/tf"),
        ("https://api.coinbase.com/api/v3", "https://api.coinbase.com/api/v3"),
        ("http://[::1", "(unparsable URL)"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_text_redacts_every_url_and_nothing_else() -> None:
    text = "GET http://u:PASS@a/x?key=K failed; retry 'https://b:PW@c/' at 10:00 (key=kept)"
    assert redact_text(text) == (
        "GET http://***@a/x?key=*** failed; retry 'https://***@c/' at 10:00 (key=kept)"
    )
    ended = "unavailable (GET http://u:PASS@a/b?token=T); retry in 1 s: see http://h/x."
    assert redact_text(ended) == (
        "unavailable (GET http://***@a/b?token=***); retry in 1 s: see http://h/x."
    )


def test_the_log_filter_redacts_messages_arguments_and_tracebacks() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("calling %s", "http://user:PASS@host/")
        try:
            try:
                raise ConnectionError("GET http://user:PASS@host/a failed")
            except ConnectionError as cause:
                raise RuntimeError("no market") from cause
        except RuntimeError:
            logger.exception("lookup failed at http://x:PASS@h/")
    finally:
        logger.removeHandler(handler)
    text = out.getvalue()
    assert "PASS" not in text
    assert text.startswith("calling http://***@host/\nlookup failed at http://***@h/\n")
    assert "ConnectionError: GET http://***@host/a failed" in text
    assert "RuntimeError: no market" in text


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_exchange_hides_its_credentials_and_says_what_to_do(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = _closed_port()
    url = f"http://user:PASS@127.0.0.1:{port}/base?token=TOKSECRET"
    source = ExchangeSource("coinbase", url, attempts=2, base_delay=0.001, rate_limit=False)
    market = MarketService(source, ManualClock(1_750_000_000))
    caplog.set_level(logging.INFO)
    try:
        with pytest.raises(MarketUnavailable) as caught:
            await market.product("BTC-USD")
        with pytest.raises(MarketUnavailable) as paused:
            await market.product("BTC-USD")  # the source is left alone for a second
    finally:
        await market.close()
    for error in (caught.value, paused.value):
        assert f"http://***@127.0.0.1:{port}/base?token=***" in str(error)
        assert error.hint == OFFLINE_HINT
    health = market.health()
    assert (health["ok"], health["message"]) == (False, OFFLINE_HINT)
    assert OFFLINE_HINT == (
        "the exchange's market data is unreachable; to try tradefleet offline set "
        "TRADEFLEET_MARKET=simulated"
    )
    shown = str(health) + caplog.text + str(caught.value) + str(paused.value)
    assert "market data unavailable" in caplog.text  # the retry was logged, redacted
    assert "PASS" not in shown
    assert "TOKSECRET" not in shown


def test_signed_tokens_are_hidden_wherever_they_show() -> None:
    jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJvcmdzL2tleSJ9.c2lnbmF0dXJl"
    headers = f"{{'Authorization': 'Bearer {jwt}', 'CB-VERSION': '2018-05-30'}}"
    assert redact_text(headers) == "{'Authorization': 'Bearer ***', 'CB-VERSION': '2018-05-30'}"
    assert redact_text(f"token {jwt} refused") == "token *** refused"
    assert redact_text("Bearer of good news, eyJ alone") == "Bearer of good news, eyJ alone"

"""``tradefleet check-exchange`` as a user runs it, against the fake Coinbase (JWTs
verified): what it prints, and exit code 2 with one actionable line when a key is wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fakes.coinbase_private import FakeAccount, fake_account_in_thread
from tradefleet.cli import app
from tradefleet.config import get_settings

runner = CliRunner()


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAccount]:
    for name in ("TRADEFLEET_API_KEY", "TRADEFLEET_API_SECRET", "TRADEFLEET_API_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    with fake_account_in_thread() as (account, _loop):
        account.set_balance("BTC", "0.5", "0.1")
        account.set_balance("USD", "2500.25")
        account.set_balance("ETH", "0")
        monkeypatch.setenv("TRADEFLEET_EXCHANGE_API_URL", account.fake.url)
        get_settings.cache_clear()
        yield account
    get_settings.cache_clear()


def _key_file(tmp_path: Path, name: str, secret: str) -> Path:
    path = tmp_path / "cdp_api_key.json"
    path.write_text(json.dumps({"name": name, "privateKey": secret}))
    return path


def test_a_working_key_file_prints_what_the_key_may_do(
    account: FakeAccount, tmp_path: Path
) -> None:
    name, pem = account.add_ec_key()
    path = _key_file(tmp_path, name, pem)
    result = runner.invoke(
        app, ["check-exchange"], env={"TRADEFLEET_API_KEY_FILE": str(path), "COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"exchange     coinbase at {account.fake.url}"
    assert lines[1] == f"key          {name} (EC P-256, signs ES256)"  # whole, not wrapped
    assert "permissions  view yes, trade yes, transfer no (DEFAULT portfolio)" in lines
    assert "fee tier     Advanced 1: taker 1.2 %, maker 0.6 %" in lines
    rows = [line.split("│")[1:5] for line in lines if line.startswith("│")]
    assert [[cell.strip() for cell in row] for row in rows] == [
        ["BTC", "0.6", "0.5", "0.1"],
        ["USD", "2500.25", "2500.25", "0"],
    ]
    assert lines[-2:] == ["2 currencies held, 1 more at zero", "ok: the key works for live trading"]
    assert pem.splitlines()[1] not in result.stdout + result.stderr


def test_a_key_that_cannot_trade_exits_2_after_the_report(
    account: FakeAccount, tmp_path: Path
) -> None:
    name, secret = account.add_ed25519_key(can_trade=False)
    result = runner.invoke(
        app, ["check-exchange"], env={"TRADEFLEET_API_KEY": name, "TRADEFLEET_API_SECRET": secret}
    )
    assert result.exit_code == 2
    assert "permissions  view yes, trade no, transfer no" in result.stdout
    assert result.stderr.strip() == (
        "problem: the key cannot trade: live bots need a key with the Trade permission"
    )
    assert secret not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({}, "error: no exchange key: set TRADEFLEET_API_KEY"),
        (
            {"TRADEFLEET_API_KEY": "organizations/1/apiKeys/2", "TRADEFLEET_API_SECRET": "abc"},
            "error: TRADEFLEET_API_SECRET is neither an EC private key",
        ),
    ],
)
def test_no_key_or_a_malformed_one_exits_2_with_one_line(
    account: FakeAccount, env: dict[str, str], said: str
) -> None:
    result = runner.invoke(app, ["check-exchange"], env=env)
    assert result.exit_code == 2
    assert result.stderr.startswith(said)
    assert account.fake.requests == []  # found before anything was sent


def test_a_wrong_private_key_is_refused_in_words(account: FakeAccount, tmp_path: Path) -> None:
    name, _ = account.add_ec_key()
    _, other = account.add_ec_key()
    path = _key_file(tmp_path, name, other)
    result = runner.invoke(app, ["check-exchange"], env={"TRADEFLEET_API_KEY_FILE": str(path)})
    assert result.exit_code == 2
    assert result.stderr.startswith("error: the exchange refused the key (401 Unauthorized)")
    assert "Traceback" not in result.stderr

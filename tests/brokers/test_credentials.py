"""The exchange key's forms: what is accepted, and what each mistake is told (never with
the private key in the message)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from pydantic import SecretStr

from tradefleet.brokers.credentials import (
    CredentialsError,
    KeyKind,
    checked,
    load_credentials,
)
from tradefleet.config import Settings

NAME = "organizations/9a3e6c1e-0000-4000-8000-000000000001/apiKeys/5b1f-77aa-4c2d"


def _pem(private: object, fmt: serialization.PrivateFormat) -> str:
    assert hasattr(private, "private_bytes")
    data = private.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
    return data.decode()


EC_PEM = _pem(
    ec.generate_private_key(ec.SECP256R1()), serialization.PrivateFormat.TraditionalOpenSSL
)
_ED = ed25519.Ed25519PrivateKey.generate()
ED_SECRET = base64.b64encode(_ED.private_bytes_raw() + _ED.public_key().public_bytes_raw()).decode()


def _settings(**values: object) -> Settings:
    secrets = {k: SecretStr(v) for k, v in values.items() if k in ("api_key", "api_secret")}
    others = {k: v for k, v in values.items() if k not in secrets}
    return Settings(_env_file=None, **secrets, **others)  # type: ignore[arg-type, call-arg]


def test_an_ec_key_pasted_with_literal_newlines_is_the_same_key() -> None:
    pasted = EC_PEM.strip().replace("\n", "\\n")
    key = load_credentials(_settings(api_key=NAME, api_secret=f'"{pasted}"'))
    assert key is not None
    assert (key.name, key.kind) == (NAME, KeyKind.EC)
    assert key.private_key.get_secret_value() == EC_PEM
    assert key.ccxt_credentials() == {"apiKey": NAME, "secret": EC_PEM}
    assert EC_PEM not in repr(key)


def test_an_ed25519_key_is_taken_with_its_id() -> None:
    key = checked("d2efa49a-369c-43d7-a60e-ae26e28853c2", ED_SECRET)
    assert (key.kind, key.private_key.get_secret_value()) == (KeyKind.ED25519, ED_SECRET)


def test_the_key_file_coinbase_offers_is_read(tmp_path: Path) -> None:
    path = tmp_path / "cdp_api_key.json"
    path.write_text(json.dumps({"name": NAME, "privateKey": EC_PEM}))
    key = load_credentials(_settings(api_key_file=path))
    assert key is not None and (key.name, key.kind) == (NAME, KeyKind.EC)
    path.write_text(json.dumps({"id": "d2efa49a-369c-43d7", "privateKey": ED_SECRET}))
    key = load_credentials(_settings(api_key_file=path))
    assert key is not None and (key.name, key.kind) == ("d2efa49a-369c-43d7", KeyKind.ED25519)


def test_no_key_at_all_is_none() -> None:
    assert load_credentials(_settings()) is None


RSA_PEM = _pem(
    rsa.generate_private_key(public_exponent=65537, key_size=2048),
    serialization.PrivateFormat.PKCS8,
)
P384_PEM = _pem(ec.generate_private_key(ec.SECP384R1()), serialization.PrivateFormat.PKCS8)
TRUNCATED = EC_PEM[: len(EC_PEM) // 2] + "\n-----END EC PRIVATE KEY-----\n"
DAMAGED_ED = base64.b64encode(base64.b64decode(ED_SECRET)[:32] + bytes(32)).decode()
MISTAKES = {
    "pem as the name": (EC_PEM, EC_PEM, "TRADEFLEET_API_KEY holds a private key"),
    "not a key name": ("my-key", EC_PEM, "is not a CDP key name"),
    "truncated pem": (NAME, TRUNCATED, "is not a readable PEM private key"),
    "rsa key": (NAME, RSA_PEM, "is not an EC P-256 key"),
    "p-384 key": (NAME, P384_PEM, "is not an EC P-256 key"),
    "garbage": (NAME, "hunter2hunter2", "neither an EC private key"),
    "damaged ed25519": ("d2efa49a-369c", DAMAGED_ED, "the Ed25519 key is damaged"),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_each_mistake_is_named_without_the_secret(mistake: str) -> None:
    name, secret, said = MISTAKES[mistake]
    with pytest.raises(CredentialsError) as raised:
        load_credentials(_settings(api_key=name, api_secret=secret))
    message = str(raised.value)
    assert said in message
    for line in secret.splitlines():
        if "-----" not in line and len(line) > 8:
            assert line not in message


def test_half_a_key_and_two_sources_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="TRADEFLEET_API_KEY is set but"):
        load_credentials(_settings(api_key=NAME))
    with pytest.raises(CredentialsError, match="TRADEFLEET_API_SECRET is set but"):
        load_credentials(_settings(api_secret=EC_PEM))
    path = tmp_path / "key.json"
    path.write_text(json.dumps({"name": NAME, "privateKey": EC_PEM}))
    with pytest.raises(CredentialsError, match="not both"):
        load_credentials(_settings(api_key=NAME, api_secret=EC_PEM, api_key_file=path))


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "does not exist"),
        ("{not json", "is not JSON (line 1)"),
        ("[1, 2]", "must hold a JSON object"),
        (json.dumps({"privateKey": "x"}), 'has no "name"'),
        (json.dumps({"name": NAME}), 'has no "privateKey"'),
    ],
)
def test_a_bad_key_file_is_named(tmp_path: Path, content: str | None, said: str) -> None:
    path = tmp_path / "key.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CredentialsError, match=re.escape(said)):
        load_credentials(_settings(api_key_file=path))

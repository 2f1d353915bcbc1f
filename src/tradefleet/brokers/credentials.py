"""The exchange key: where it comes from, what form it has, and that it stays secret.

A Coinbase CDP key is a name plus a private key, given either as
``TRADEFLEET_API_KEY`` + ``TRADEFLEET_API_SECRET`` or as ``TRADEFLEET_API_KEY_FILE``, the
JSON file Coinbase lets a user download (``{"name": …, "privateKey": …}``, or
``{"id": …, "privateKey": …}`` for an Ed25519 key). Two kinds exist:

- ECDSA: the name is ``organizations/{org}/apiKeys/{key}`` and the private key an EC
  P-256 PEM (ccxt signs ES256). A PEM pasted with literal ``\\n`` works.
- Ed25519: the name is the key's id and the private key 64 bytes in base64 (ccxt signs
  EdDSA).

The key is checked here, before anything is sent, so a malformed one is named in words a
user can act on. No message ever repeats key material; the private key lives in a
``SecretStr`` and only ``ccxt_credentials`` hands it out, to the ccxt client that signs.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from pydantic import SecretStr

from tradefleet.config import Settings

_EC_KEY_NAME = re.compile(r"^organizations/[0-9A-Za-z-]+/apiKeys/[0-9A-Za-z-]+$")
_KEY_ID = re.compile(r"^[0-9A-Za-z-]{8,64}$")


class KeyKind(StrEnum):
    EC = "EC P-256, signs ES256"
    ED25519 = "Ed25519, signs EdDSA"


class CredentialsError(ValueError):
    """A key that cannot work, said without its secret."""


@dataclass(frozen=True, slots=True)
class ExchangeCredentials:
    name: str  # not secret: Coinbase shows it in its key list
    private_key: SecretStr
    kind: KeyKind

    def ccxt_credentials(self) -> dict[str, str]:
        """What a ccxt client needs to sign: ``apiKey`` and ``secret``."""
        return {"apiKey": self.name, "secret": self.private_key.get_secret_value()}


def load_credentials(settings: Settings) -> ExchangeCredentials | None:
    """The configured key, checked; None when none is configured at all."""
    name = _plain(settings.api_key)
    secret = _plain(settings.api_secret)
    path = settings.api_key_file
    if path is not None:
        if name or secret:
            raise CredentialsError(
                "set either TRADEFLEET_API_KEY_FILE or TRADEFLEET_API_KEY and "
                "TRADEFLEET_API_SECRET, not both"
            )
        name, secret = _read_key_file(path)
    if not name and not secret:
        return None
    if not name:
        raise CredentialsError("TRADEFLEET_API_SECRET is set but TRADEFLEET_API_KEY is not")
    if not secret:
        raise CredentialsError("TRADEFLEET_API_KEY is set but TRADEFLEET_API_SECRET is not")
    return checked(name, secret)


def checked(name: str, private_key: str) -> ExchangeCredentials:
    """The key if its name and private key have a form Coinbase accepts."""
    name = name.strip()
    if "-----BEGIN" in name or "PRIVATE KEY" in name:
        raise CredentialsError(
            "TRADEFLEET_API_KEY holds a private key; it takes the key's name "
            "(organizations/…/apiKeys/…), and TRADEFLEET_API_SECRET the private key"
        )
    text = _unescaped(private_key)
    if "-----BEGIN" in text:
        _check_ec_pem(text)
        if not _EC_KEY_NAME.match(name):
            raise CredentialsError(
                "TRADEFLEET_API_KEY is not a CDP key name: it looks like "
                "organizations/{organization id}/apiKeys/{key id}"
            )
        return ExchangeCredentials(name, SecretStr(text), KeyKind.EC)
    _check_ed25519(text)
    if not _KEY_ID.match(name) and not _EC_KEY_NAME.match(name):
        raise CredentialsError(
            "TRADEFLEET_API_KEY is not an Ed25519 key's id (letters, digits and dashes)"
        )
    return ExchangeCredentials(name, SecretStr(text), KeyKind.ED25519)


def key_configured(settings: Settings) -> bool:
    """Whether a key is set at all (a name and a secret, or a key file); blanks are not.
    Whether it works is ``check-exchange``'s question."""
    return bool((_plain(settings.api_key) and _plain(settings.api_secret)) or settings.api_key_file)


def _plain(value: SecretStr | None) -> str:
    return value.get_secret_value().strip() if value is not None else ""


def _read_key_file(path: Path) -> tuple[str, str]:
    where = f"TRADEFLEET_API_KEY_FILE ({path})"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CredentialsError(f"{where} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CredentialsError(f"{where} cannot be read: {type(error).__name__}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise CredentialsError(
            f"{where} is not JSON (line {error.lineno}): use the key file Coinbase offers "
            "to download when the key is created"
        ) from None
    if not isinstance(document, dict):
        raise CredentialsError(f"{where} must hold a JSON object with name and privateKey")
    name = document.get("name", document.get("id"))
    secret = document.get("privateKey")
    if not isinstance(name, str) or not name.strip():
        raise CredentialsError(f'{where} has no "name" (or "id") of the key')
    if not isinstance(secret, str) or not secret.strip():
        raise CredentialsError(f'{where} has no "privateKey"')
    return name.strip(), secret


def _unescaped(private_key: str) -> str:
    """The key as pasted: surrounding quotes and blanks dropped, literal ``\\n`` turned
    into line breaks (an env var or a .env line cannot hold real ones)."""
    text = private_key.strip().strip("\"'").strip()
    text = text.replace("\\r\\n", "\n").replace("\\n", "\n").replace("\r\n", "\n")
    if "-----BEGIN" in text and not text.endswith("\n"):
        text += "\n"
    return text


def _check_ec_pem(text: str) -> None:
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except TypeError:
        raise CredentialsError("the private key is encrypted: use the unencrypted key") from None
    except ValueError:
        raise CredentialsError(
            "TRADEFLEET_API_SECRET is not a readable PEM private key: paste it whole, from "
            "-----BEGIN EC PRIVATE KEY----- to -----END EC PRIVATE KEY----- (line breaks "
            "may be written \\n)"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise CredentialsError(
            "the private key is not an EC P-256 key: Coinbase CDP keys are ECDSA (P-256) or Ed25519"
        )


def _check_ed25519(text: str) -> None:
    """64 bytes in base64: the 32-byte seed, then the public key it derives."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 64:
        raise CredentialsError(
            "TRADEFLEET_API_SECRET is neither an EC private key (PEM, "
            "-----BEGIN EC PRIVATE KEY-----) nor an Ed25519 key (88 characters of base64)"
        )
    public = ed25519.Ed25519PrivateKey.from_private_bytes(raw[:32]).public_key()
    if public.public_bytes_raw() != raw[32:]:
        raise CredentialsError(
            "the Ed25519 key is damaged: its second half is not the public key of its first"
        )

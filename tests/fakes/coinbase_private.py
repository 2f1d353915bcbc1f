"""Coinbase's private REST endpoints on the fake server, every request's JWT verified.

What Coinbase documents and ccxt 4.5.x sends: ``Authorization: Bearer <JWT>`` whose header
names the key (``kid``) and carries a ``nonce``; ES256 for EC P-256 keys (``iss``
"coinbase-cloud", ``aud`` ["retail_rest_api_proxy"], claim ``uri``) or EdDSA for Ed25519
keys (``iss`` "cdp", ``aud`` ["cdp_service"], claim ``uris``); ``sub`` = the key name;
``nbf``/``exp`` at most 120 s apart, checked against the fake's own clock (``offset``
seconds from this machine's; ``nbf`` may be up to 30 s ahead of it). The ``uri`` is
"METHOD host/path" exactly as the client requested it (no query, ``https://`` dropped).
A request that fails any of this gets 401 with Coinbase's plain-text body, and the
reason is kept in ``refusals`` for the test.

Endpoints so far: key permissions, transaction summary (fee tier), accounts (v3, with
holds, paged), and the server time (public, on the fake's clock).

    async with running_fake_account() as account:  # account.fake: the whole fake
        name, pem = account.add_ec_key()
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import queue
import secrets
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from tests.fakes.coinbase_server import V3, FakeCoinbase

ES256_CLAIMS = {"iss": "coinbase-cloud", "aud": "retail_rest_api_proxy", "uri": "uri"}
EDDSA_CLAIMS = {"iss": "cdp", "aud": "cdp_service", "uri": "uris"}
MAX_LIFETIME = 120
NBF_LEEWAY = 30  # how far in its future a token's nbf may be: a client clock a bit ahead


@dataclass(slots=True)
class FakeKey:
    name: str
    public_key: Any
    algorithm: str  # "ES256" or "EdDSA"
    can_view: bool = True
    can_trade: bool = True
    can_transfer: bool = False


@dataclass(slots=True)
class FakeAccount:
    """The account behind the fake's private endpoints: keys, balances, fee tier, clock."""

    fake: FakeCoinbase
    keys: dict[str, FakeKey] = field(default_factory=dict)
    balances: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)  # avail, hold
    fee_tier: dict[str, str] = field(
        default_factory=lambda: {
            "pricing_tier": "Advanced 1",
            "usd_from": "0",
            "usd_to": "1000",
            "taker_fee_rate": "0.012",
            "maker_fee_rate": "0.006",
        }
    )
    offset: float = 0.0  # the fake's clock minus this machine's, in seconds
    refusals: list[str] = field(default_factory=list)
    verified: int = 0
    page_size: int = 2  # small, so the client's paging is exercised

    def __post_init__(self) -> None:
        router = self.fake.app.router
        router.add_get(f"{V3}/key_permissions", self._key_permissions)
        router.add_get(f"{V3}/transaction_summary", self._transaction_summary)
        router.add_get(f"{V3}/accounts", self._accounts)
        self.fake.time_source = self.now

    # -- test controls ------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.offset

    def add_ec_key(self, **permissions: bool) -> tuple[str, str]:
        """A new EC P-256 key the fake accepts: (its name, its private key as PEM)."""
        private = ec.generate_private_key(ec.SECP256R1())
        name = f"organizations/{uuid.uuid4()}/apiKeys/{uuid.uuid4()}"
        self.keys[name] = FakeKey(name, private.public_key(), "ES256", **permissions)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        return name, pem.decode()

    def add_ed25519_key(self, **permissions: bool) -> tuple[str, str]:
        """A new Ed25519 key: (its id, seed + public key in base64, as Coinbase gives it)."""
        private = ed25519.Ed25519PrivateKey.generate()
        raw = private.private_bytes_raw() + private.public_key().public_bytes_raw()
        key_id = str(uuid.uuid4())
        self.keys[key_id] = FakeKey(key_id, private.public_key(), "EdDSA", **permissions)
        return key_id, base64.b64encode(raw).decode()

    def set_balance(self, currency: str, available: str, hold: str = "0") -> None:
        self.balances[currency] = (Decimal(available), Decimal(hold))

    # -- authentication -----------------------------------------------------------

    def _refuse(self, reason: str) -> web.Response:
        self.refusals.append(reason)
        return web.Response(status=401, text="Unauthorized\n", content_type="text/plain")

    def _key_of(self, request: web.Request) -> FakeKey | web.Response:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return self._refuse("no bearer token")
        token = header.removeprefix("Bearer ")
        try:
            head = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            return self._refuse(f"not a JWT: {error}")
        key = self.keys.get(str(head.get("kid")))
        if key is None:
            return self._refuse("unknown kid")
        if head.get("alg") != key.algorithm or not head.get("nonce"):
            return self._refuse(f"header {head!r} does not fit a {key.algorithm} key")
        expected = ES256_CLAIMS if key.algorithm == "ES256" else EDDSA_CLAIMS
        try:
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=[key.algorithm],
                audience=expected["aud"],
                issuer=expected["iss"],
                options={
                    "require": ["sub", "nbf", "exp", "iss", "aud"],
                    "verify_exp": False,  # on the fake's clock, below
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as error:
            return self._refuse(f"JWT refused: {type(error).__name__}: {error}")
        return self._claims_fit(request, key, claims, expected["uri"])

    def _claims_fit(
        self, request: web.Request, key: FakeKey, claims: dict[str, Any], uri_claim: str
    ) -> FakeKey | web.Response:
        if claims.get("sub") != key.name:
            return self._refuse("sub is not the key's name")
        now, nbf, exp = self.now(), claims["nbf"], claims["exp"]
        if not (nbf <= now + NBF_LEEWAY and now < exp and exp - nbf <= MAX_LIFETIME):
            return self._refuse(f"outside its lifetime: nbf {nbf}, exp {exp}, now {now:.0f}")
        url = str(request.url.with_query(None)).replace("https://", "")
        wanted = f"{request.method} {url}"
        said = claims.get(uri_claim)
        if (said if uri_claim == "uri" else (said or [None])[0]) != wanted:
            return self._refuse(f"{uri_claim} {said!r} is not {wanted!r}")
        self.verified += 1
        return key

    # -- endpoints ----------------------------------------------------------------

    async def _key_permissions(self, request: web.Request) -> web.StreamResponse:
        key = self._key_of(request)
        if isinstance(key, web.Response):
            return key
        return web.json_response(
            {
                "can_view": key.can_view,
                "can_trade": key.can_trade,
                "can_transfer": key.can_transfer,
                "portfolio_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, key.name)),
                "portfolio_type": "DEFAULT",
            }
        )

    async def _transaction_summary(self, request: web.Request) -> web.StreamResponse:
        key = self._key_of(request)
        if isinstance(key, web.Response):
            return key
        return web.json_response(
            {
                "total_volume": 0,
                "total_fees": 0,
                "fee_tier": {**self.fee_tier, "aop_from": "", "aop_to": ""},
                "margin_rate": None,
                "goods_and_services_tax": None,
                "advanced_trade_only_volume": 0,
                "advanced_trade_only_fees": 0,
                "coinbase_pro_volume": 0,
                "coinbase_pro_fees": 0,
                "total_balance": "",
                "has_promo_fee": False,
            }
        )

    async def _accounts(self, request: web.Request) -> web.StreamResponse:
        key = self._key_of(request)
        if isinstance(key, web.Response):
            return key
        currencies = sorted(self.balances)
        start = int(request.query.get("cursor") or 0)
        limit = min(int(request.query.get("limit") or 49), self.page_size)
        page = currencies[start : start + limit]
        more = start + limit < len(currencies)
        return web.json_response(
            {
                "accounts": [self._account(currency) for currency in page],
                "has_next": more,
                "cursor": str(start + limit) if more else "",
                "size": len(page),
            }
        )

    def _account(self, currency: str) -> dict[str, Any]:
        available, hold = self.balances[currency]
        stamp = datetime.fromtimestamp(self.now(), UTC).isoformat().replace("+00:00", "Z")
        return {
            "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, currency)),
            "name": f"{currency} Wallet",
            "currency": currency,
            "available_balance": {"value": f"{available:f}", "currency": currency},
            "default": True,
            "active": True,
            "created_at": stamp,
            "updated_at": stamp,
            "deleted_at": None,
            "type": "ACCOUNT_TYPE_CRYPTO",
            "ready": True,
            "hold": {"value": f"{hold:f}", "currency": currency},
            "retail_portfolio_id": secrets.token_hex(8),
        }


T = TypeVar("T")


@asynccontextmanager
async def running_fake_account() -> AsyncIterator[FakeAccount]:
    """A started fake with private endpoints (routes must exist before it starts)."""
    fake = FakeCoinbase()
    account = FakeAccount(fake)
    await fake.start()
    try:
        yield account
    finally:
        with suppress(Exception):
            await fake.stop()


@contextmanager
def fake_account_in_thread() -> Iterator[tuple[FakeAccount, asyncio.AbstractEventLoop]]:
    """The fake on a loop of its own in a background thread, for code that runs its own
    loop (a CLI command); change the account through ``loop.call_soon_threadsafe``, or
    before the code under test runs."""
    with in_thread(running_fake_account) as started:
        yield started


@contextmanager
def in_thread(
    running: Callable[[], AbstractAsyncContextManager[T]],
) -> Iterator[tuple[T, asyncio.AbstractEventLoop]]:
    """What ``running`` starts, on a loop of its own in a background thread."""
    loop = asyncio.new_event_loop()
    started: queue.Queue[T | BaseException] = queue.Queue()
    stop = asyncio.Event()

    async def serve() -> None:
        try:
            async with running() as ready:
                started.put(ready)
                await stop.wait()
        except BaseException as error:
            started.put(error)
            raise

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    ready = started.get(timeout=30)
    if isinstance(ready, BaseException):
        raise ready
    try:
        yield ready, loop
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=60)  # a held answer (``hang``) finishes first
        loop.close()


def main() -> None:
    """Run the fake for trying the live commands by hand: it writes a new key file (the
    JSON Coinbase offers) and prints the settings to point tradefleet at it."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--key-file", type=Path, required=True)
    parser.add_argument("--ed25519", action="store_true", help="an Ed25519 key, not EC")
    parser.add_argument("--no-trade", action="store_true", help="a key without Trade")
    parser.add_argument("--offset", type=float, default=0.0, help="the fake's clock skew")
    args = parser.parse_args()
    with fake_account_in_thread() as (account, _loop):
        account.offset = args.offset
        account.set_balance("BTC", "0.5", "0.1")
        account.set_balance("USD", "2500.25")
        account.set_balance("ETH", "0")
        make = account.add_ed25519_key if args.ed25519 else account.add_ec_key
        name, secret = make(can_trade=not args.no_trade)
        field_name = "id" if args.ed25519 else "name"
        args.key_file.write_text(json.dumps({field_name: name, "privateKey": secret}))
        print(f"TRADEFLEET_EXCHANGE_API_URL={account.fake.url}")
        print(f"TRADEFLEET_API_KEY_FILE={args.key_file}", flush=True)
        with suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()

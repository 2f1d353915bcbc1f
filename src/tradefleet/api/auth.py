"""The single admin login: password check, signing key and JWT access tokens.

The password is ``TRADEFLEET_ADMIN_PASSWORD`` when set (it wins), otherwise a bcrypt hash in
the ``settings`` table, generated once at start-up by ``ensure_admin_password``. Tokens are
HS256 JWTs signed with ``TRADEFLEET_JWT_SECRET`` or, when unset, a random key generated once
and stored in the ``settings`` table, so tokens survive a restart. Each token also names the
password it was issued for (``pwd``: an HMAC of the password, or of its stored hash, under
the signing key, which tells nothing without that key), so changing the password logs every
session out. Passwords are never logged.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta

import bcrypt
import jwt
from pydantic import SecretStr
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.config import Settings
from tradefleet.db.models import Setting

MAX_REMEMBERED_TOKEN = 1024
ADMIN_USERNAME = "admin"
ADMIN_HASH_KEY = "admin_password_hash"
JWT_SECRET_KEY = "jwt_secret"
ALGORITHM = "HS256"
COOKIE_NAME = "tradefleet_token"
BCRYPT_MAX_BYTES = 72  # bcrypt refuses longer passwords


def hash_password(password: str, rounds: int = 12) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    encoded = password.encode()
    if len(encoded) > BCRYPT_MAX_BYTES:
        return False
    try:
        return bcrypt.checkpw(encoded, password_hash.encode())
    except ValueError:  # a malformed stored hash: no password matches it
        return False


def env_password(settings: Settings) -> SecretStr | None:
    """The configured password; an empty value counts as unset (never an empty password)."""
    password = settings.admin_password
    return password if password is not None and password.get_secret_value() else None


def ensure_admin_password(session_factory: sessionmaker[Session], settings: Settings) -> str | None:
    """Generate and store the admin password on first start; returns it to show ONCE.

    None when ``TRADEFLEET_ADMIN_PASSWORD`` is set or a hash is already stored.
    """
    if env_password(settings) is not None:
        return None
    with session_factory() as session:
        if session.get(Setting, ADMIN_HASH_KEY) is not None:
            return None
        password = secrets.token_urlsafe(18)
        session.add(Setting(key=ADMIN_HASH_KEY, value=hash_password(password)))
        try:
            session.commit()
        except IntegrityError:  # another process stored one first: that one stands
            session.rollback()
            return None
    return password


def load_jwt_secret(session_factory: sessionmaker[Session], settings: Settings) -> str:
    """The signing key: the configured one, else the stored one, else a new stored one."""
    if settings.jwt_secret is not None and settings.jwt_secret.get_secret_value():
        return settings.jwt_secret.get_secret_value()
    with session_factory() as session:
        row = session.get(Setting, JWT_SECRET_KEY)
        if row is not None and isinstance(row.value, str) and row.value:
            return row.value
        secret = secrets.token_urlsafe(48)
        session.add(Setting(key=JWT_SECRET_KEY, value=secret))
        try:
            session.commit()
        except IntegrityError:  # a concurrent start stored its key first: use that one
            session.rollback()
            stored = session.get(Setting, JWT_SECRET_KEY)
            if stored is None or not isinstance(stored.value, str):
                raise
            return stored.value
    return secret


def check_credentials(session: Session, settings: Settings, username: str, password: str) -> bool:
    """Both parts are always checked, in constant time, so a failure does not say which."""
    user_ok = hmac.compare_digest(username.encode(), ADMIN_USERNAME.encode())
    configured = env_password(settings)
    if configured is not None:
        password_ok = hmac.compare_digest(password.encode(), configured.get_secret_value().encode())
    else:
        row = session.get(Setting, ADMIN_HASH_KEY)
        stored = row.value if row is not None and isinstance(row.value, str) else None
        password_ok = stored is not None and verify_password(password, stored)
    return user_ok and password_ok


def create_access_token(
    secret: str, minutes: int, now: datetime | None = None, password_id: str = ""
) -> str:
    issued = now or datetime.now(UTC)
    claims = {
        "sub": ADMIN_USERNAME,
        "iat": issued,
        "exp": issued + timedelta(minutes=minutes),
        "pwd": password_id,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def token_subject(secret: str, token: str, password_id: str = "") -> str | None:
    """The user a valid, unexpired token for the current password names; None otherwise."""
    if len(token) <= MAX_REMEMBERED_TOKEN:
        checked = _remembered_check(secret, token, password_id)
    else:
        checked = _checked_token(secret, token, password_id)
    if checked is None:
        return None
    subject, expires = checked
    return subject if time.time() < expires else None  # PyJWT's own rule, without leeway


def _checked_token(secret: str, token: str, password_id: str) -> tuple[str, float] | None:
    """A token's signature, claims and password, with when it expires (which the caller
    checks each time)."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub", "pwd"], "verify_exp": False},
        )
    except jwt.PyJWTError:
        return None
    issued_for, subject, expires = claims.get("pwd"), claims.get("sub"), claims.get("exp")
    if not isinstance(issued_for, str) or not hmac.compare_digest(issued_for, password_id):
        return None
    if subject != ADMIN_USERNAME or not isinstance(expires, int | float):
        return None
    return subject, float(expires)


_remembered_check = functools.lru_cache(maxsize=4096)(_checked_token)
"""``_checked_token`` once per token: a client sends the same token with every request, and
the check was a tenth of a simple request's work. Keyed by the signing key and the
password too, so a new one of either checks every token again; only tokens of up to
``MAX_REMEMBERED_TOKEN`` characters (ours are about 250), so what it keeps stays small."""


def password_id(secret: str, session_factory: sessionmaker[Session], settings: Settings) -> str:
    """What identifies the current password in tokens, "" while there is none."""
    configured = env_password(settings)
    if configured is not None:
        identity = "env:" + configured.get_secret_value()
    else:
        with session_factory() as session:
            row = session.get(Setting, ADMIN_HASH_KEY)
        if row is None or not isinstance(row.value, str):
            return ""
        identity = "hash:" + row.value
    return hmac.new(secret.encode(), identity.encode(), "sha256").hexdigest()[:32]


class SigningKey:
    """The JWT key, loaded from the database on first use and then kept (thread-safe)."""

    def __init__(self, session_factory: sessionmaker[Session], settings: Settings) -> None:
        self._session_factory = session_factory
        self._settings = settings
        self._secret: str | None = None
        self._password_id = ""
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            if self._secret is None:
                self._secret = load_jwt_secret(self._session_factory, self._settings)
            return self._secret

    def cached(self) -> tuple[str, str] | None:
        """``(key, password_id)`` when both are loaded already: then checking a token
        needs no database and can run on the event loop."""
        with self._lock:
            if self._secret is None or not self._password_id:
                return None
            return self._secret, self._password_id

    def password_id(self) -> str:
        """``password_id`` of the password this server runs with (it changes only with a
        restart: a new ``TRADEFLEET_ADMIN_PASSWORD``, or a hash generated on first start)."""
        secret = self.get()
        with self._lock:
            if not self._password_id:
                self._password_id = password_id(secret, self._session_factory, self._settings)
            return self._password_id

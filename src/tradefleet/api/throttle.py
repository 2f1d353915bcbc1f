"""Failed logins per client and per account, so nobody can guess the admin password at
network speed, from one address or from many.

* A client (the peer address, or what a trusted proxy says it is: see
  ``TRADEFLEET_TRUSTED_PROXIES``) with ``LOGIN_ATTEMPTS`` (5) failures within
  ``LOGIN_WINDOW_SECONDS`` (5 minutes) is refused until the oldest of them leaves the window.
* An account (the username tried) with ``ACCOUNT_ATTEMPTS`` (20) failures within
  ``ACCOUNT_WINDOW_SECONDS`` (15 minutes), from whatever addresses, is refused the same
  way for everyone: rotating addresses buys an attacker 20 guesses per 15 minutes, not
  more. The price is that such an attacker can keep the admin out for as long as it keeps
  failing; the account limit is four times the client one so that a single address can
  never do it.

Refused means 429 with ``Retry-After``, the password not even checked. A successful
login clears the client's and the account's record. Kept in memory: a restart forgets
it, which costs an attacker a restart per few guesses.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

LOGIN_ATTEMPTS = 5
LOGIN_WINDOW_SECONDS = 300.0
ACCOUNT_ATTEMPTS = 20
ACCOUNT_WINDOW_SECONDS = 900.0
_MAX_KEYS = 10_000  # forget the oldest records beyond this many clients (or accounts)


class FailureWindow:
    """Failures per key within a sliding window; refused at ``attempts`` of them."""

    def __init__(
        self,
        attempts: int = LOGIN_ATTEMPTS,
        window: float = LOGIN_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._attempts = attempts
        self._window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int | None:
        """Whole seconds ``key`` must wait before its next try, or None if it may try."""
        with self._lock:
            recent = self._recent(key)
            if len(recent) < self._attempts:
                return None
            return max(1, math.ceil(recent[0] + self._window - self._clock()))

    def failed(self, key: str) -> None:
        with self._lock:
            self._recent(key).append(self._clock())
            if len(self._failures) > _MAX_KEYS:
                self._failures.pop(next(iter(self._failures)))

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[float]:
        """The key's failures still inside the window (the lock is held)."""
        recent = self._failures.setdefault(key, deque())
        horizon = self._clock() - self._window
        while recent and recent[0] <= horizon:
            recent.popleft()
        return recent


class LoginThrottle:
    """The client rule and the account rule together (see the module's docstring)."""

    def __init__(
        self,
        attempts: int = LOGIN_ATTEMPTS,
        window: float = LOGIN_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        account_attempts: int = ACCOUNT_ATTEMPTS,
        account_window: float = ACCOUNT_WINDOW_SECONDS,
    ) -> None:
        self.clients = FailureWindow(attempts, window, clock)
        self.accounts = FailureWindow(account_attempts, account_window, clock)

    def retry_after(self, client: str, username: str) -> int | None:
        """Seconds until both the client and the account may try again; None: they may."""
        waits = [self.clients.retry_after(client), self.accounts.retry_after(username)]
        given = [wait for wait in waits if wait is not None]
        return max(given) if given else None

    def failed(self, client: str, username: str) -> None:
        self.clients.failed(client)
        self.accounts.failed(username)

    def succeeded(self, client: str, username: str) -> None:
        self.clients.succeeded(client)
        self.accounts.succeeded(username)

"""Failed logins per client, so nobody can guess the admin password at network speed.

After ``attempts`` failed logins within ``window`` seconds a client is refused (429 with
``Retry-After``) until the oldest of those failures leaves the window; a successful login
clears its record. Kept in memory: a restart forgets it, which costs an attacker a
restart per few guesses.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

LOGIN_ATTEMPTS = 5
LOGIN_WINDOW_SECONDS = 300.0
_MAX_CLIENTS = 10_000  # forget the oldest records beyond this many clients


class LoginThrottle:
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

    def retry_after(self, client: str) -> int | None:
        """Whole seconds ``client`` must wait before its next try, or None if it may try."""
        with self._lock:
            recent = self._recent(client)
            if len(recent) < self._attempts:
                return None
            return max(1, math.ceil(recent[0] + self._window - self._clock()))

    def failed(self, client: str) -> None:
        with self._lock:
            self._recent(client).append(self._clock())
            if len(self._failures) > _MAX_CLIENTS:
                self._failures.pop(next(iter(self._failures)))

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def _recent(self, client: str) -> deque[float]:
        """The client's failures still inside the window (the lock is held)."""
        recent = self._failures.setdefault(client, deque())
        horizon = self._clock() - self._window
        while recent and recent[0] <= horizon:
            recent.popleft()
        return recent

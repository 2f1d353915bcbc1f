"""The login throttle on a hand-driven clock: five failures in five minutes block a client
until the oldest of them is five minutes old; twenty in fifteen minutes block the account
for every client; a success clears both records."""

from __future__ import annotations

from tradefleet.api.throttle import (
    ACCOUNT_ATTEMPTS,
    ACCOUNT_WINDOW_SECONDS,
    LOGIN_ATTEMPTS,
    LOGIN_WINDOW_SECONDS,
    FailureWindow,
    LoginThrottle,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_documented_numbers() -> None:
    assert (LOGIN_ATTEMPTS, LOGIN_WINDOW_SECONDS) == (5, 300.0)
    assert (ACCOUNT_ATTEMPTS, ACCOUNT_WINDOW_SECONDS) == (20, 900.0)


def test_the_sixth_try_waits_until_the_first_failure_leaves_the_window() -> None:
    clock = Clock()
    window = FailureWindow(attempts=5, window=300.0, clock=clock)
    for second in range(5):
        assert window.retry_after("10.0.0.1") is None
        clock.now = 1000.0 + second * 10  # failures at 1000, 1010, ..., 1040
        window.failed("10.0.0.1")
    clock.now = 1100.0
    assert window.retry_after("10.0.0.1") == 200  # 1000 + 300 - 1100
    assert window.retry_after("10.0.0.2") is None  # another client is not affected
    clock.now = 1299.5
    assert window.retry_after("10.0.0.1") == 1  # rounded up, never 0
    clock.now = 1300.0  # the failure at 1000 is out: four remain
    assert window.retry_after("10.0.0.1") is None
    window.failed("10.0.0.1")
    assert window.retry_after("10.0.0.1") == 10  # now the one at 1010 is the oldest


def test_a_success_clears_the_record() -> None:
    clock = Clock()
    window = FailureWindow(attempts=2, window=60.0, clock=clock)
    window.failed("a")
    window.succeeded("a")
    window.failed("a")
    assert window.retry_after("a") is None
    window.failed("a")
    assert window.retry_after("a") == 60


def test_twenty_failures_from_many_addresses_block_the_account_everywhere() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for n in range(20):  # four addresses, five failures each: none is blocked itself...
        assert throttle.retry_after(f"10.0.0.{n % 4}", "admin") is None
        clock.now = 1000.0 + n
        throttle.failed(f"10.0.0.{n % 4}", "admin")
    clock.now = 1100.0
    # ...until the fifth: each address now has 5 failures; the account has 20
    assert throttle.clients.retry_after("10.0.0.9") is None
    assert throttle.retry_after("10.0.0.9", "admin") == 800  # 1000 + 900 - 1100
    assert throttle.retry_after("10.0.0.9", "someone") is None  # other accounts may try
    assert throttle.retry_after("10.0.0.0", "someone") == 200  # that address may not
    clock.now = 1900.0  # the account's first failure (at 1000) leaves its window
    assert throttle.retry_after("10.0.0.9", "admin") is None


def test_the_longer_wait_of_client_and_account_is_answered() -> None:
    clock = Clock()
    throttle = LoginThrottle(attempts=2, window=60.0, clock=clock, account_attempts=3,
                             account_window=600.0)  # fmt: skip
    throttle.failed("a", "admin")
    throttle.failed("a", "admin")
    assert throttle.retry_after("a", "admin") == 60  # the client rule; the account has 2 of 3
    throttle.failed("b", "admin")
    assert throttle.retry_after("a", "admin") == 600
    assert throttle.retry_after("c", "admin") == 600


def test_a_success_clears_the_client_and_the_account() -> None:
    clock = Clock()
    throttle = LoginThrottle(attempts=2, window=60.0, clock=clock, account_attempts=2,
                             account_window=600.0)  # fmt: skip
    throttle.failed("a", "admin")
    throttle.failed("b", "admin")
    assert throttle.retry_after("c", "admin") == 600
    throttle.succeeded("b", "admin")
    assert throttle.retry_after("c", "admin") is None
    throttle.failed("a", "admin")
    assert throttle.retry_after("a", "admin") == 60  # "a" itself was not cleared: 2 failures

"""``LoginThrottle`` on a hand-driven clock: five failures in five minutes block a client
until the oldest of them is five minutes old; a success clears the record."""

from __future__ import annotations

from tradefleet.api.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_sixth_try_waits_until_the_first_failure_leaves_the_window() -> None:
    clock = Clock()
    throttle = LoginThrottle(attempts=5, window=300.0, clock=clock)
    for second in range(5):
        assert throttle.retry_after("10.0.0.1") is None
        clock.now = 1000.0 + second * 10  # failures at 1000, 1010, ..., 1040
        throttle.failed("10.0.0.1")
    clock.now = 1100.0
    assert throttle.retry_after("10.0.0.1") == 200  # 1000 + 300 - 1100
    assert throttle.retry_after("10.0.0.2") is None  # another client is not affected
    clock.now = 1299.5
    assert throttle.retry_after("10.0.0.1") == 1  # rounded up, never 0
    clock.now = 1300.0  # the failure at 1000 is out: four remain
    assert throttle.retry_after("10.0.0.1") is None
    throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 10  # now the one at 1010 is the oldest


def test_a_success_clears_the_record() -> None:
    clock = Clock()
    throttle = LoginThrottle(attempts=2, window=60.0, clock=clock)
    throttle.failed("a")
    throttle.succeeded("a")
    throttle.failed("a")
    assert throttle.retry_after("a") is None
    throttle.failed("a")
    assert throttle.retry_after("a") == 60

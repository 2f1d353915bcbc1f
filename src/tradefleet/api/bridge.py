"""Reaching the engine from a route: routes that touch the database are plain ``def``
functions, which FastAPI runs in its worker threads, so the event loop never waits on the
database; the engine's coroutines are called on the loop through ``anyio.from_thread``."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from anyio import from_thread

from tradefleet.api.errors import guarded

T = TypeVar("T")


def on_loop(action: Callable[..., Coroutine[Any, Any, T]], *args: object, what: str) -> T:
    """Run an engine or market coroutine on the event loop and wait for it in this worker
    thread; a failure is answered as ``guarded`` answers it on the loop (503)."""
    return from_thread.run(guarded, action(*args), what)

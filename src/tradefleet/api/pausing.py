"""Reaching the engine from a route: routes that touch the database are plain ``def``
functions, which FastAPI runs in its worker threads, so the event loop never waits on the
database; the engine's coroutines are called on the loop through ``anyio.from_thread``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from anyio import from_thread
from sqlalchemy.orm import Session

from tradefleet.api.errors import UnavailableError, market_unavailable
from tradefleet.capacity import ENGINE_PAUSE_SECONDS
from tradefleet.engine.protocols import EngineBusy, EngineControl
from tradefleet.market.base import MarketUnavailable
from tradefleet.services.errors import ServiceError

logger = logging.getLogger(__name__)
T = TypeVar("T")


def on_loop(action: Callable[..., Coroutine[Any, Any, T]], *args: object, what: str) -> T:
    """Run an engine or market coroutine on the event loop and wait for it in this worker
    thread; its failure is logged and answered with 503 (``UnavailableError``)."""
    try:
        return from_thread.run(action, *args)
    except (ServiceError, EngineBusy):
        raise  # a refusal the caller can act on (404/409/422), or busy (503 + Retry-After)
    except MarketUnavailable as error:
        raise market_unavailable(what, error) from None
    except Exception:
        logger.exception("could not %s", what)
        raise UnavailableError(f"could not {what}; see the server log") from None


@contextmanager
def engine_paused(engine: EngineControl, session: Session) -> Iterator[None]:
    """Write between engine cycles, on a fresh transaction.

    The session's connection goes back to the pool before the wait (a request waiting for
    the engine holds no connection), and the write starts on a new snapshot: the engine
    may have committed while we waited, and SQLite refuses a write on an older one.
    """
    session.rollback()
    from_thread.run(engine.pause, ENGINE_PAUSE_SECONDS)
    try:
        yield
    except BaseException:
        session.rollback()  # a failed write is undone before the engine runs again
        raise
    finally:
        from_thread.run_sync(engine.resume)

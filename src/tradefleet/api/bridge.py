"""Reaching the engine from a route: routes that touch the database are plain ``def``
functions, which FastAPI runs in its worker threads, so the event loop never waits on the
database; the engine's coroutines are called on the loop through ``anyio.from_thread``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from anyio import from_thread

from tradefleet.api.errors import UnavailableError, market_unavailable
from tradefleet.market.base import MarketUnavailable
from tradefleet.services.errors import ServiceError

logger = logging.getLogger(__name__)
T = TypeVar("T")


def on_loop(action: Callable[..., Coroutine[Any, Any, T]], *args: object, what: str) -> T:
    """Run an engine or market coroutine on the event loop and wait for it in this worker
    thread; its failure is logged and answered with 503 (``UnavailableError``)."""
    try:
        return from_thread.run(action, *args)
    except ServiceError:
        raise  # a refusal the caller can act on (404/409/422)
    except MarketUnavailable as error:
        raise market_unavailable(what, error) from None
    except Exception:
        logger.exception("could not %s", what)
        raise UnavailableError(f"could not {what}; see the server log") from None

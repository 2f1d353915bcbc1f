"""At most ``API_IN_FLIGHT`` requests inside the application at once; the rest wait on the
event loop, where waiting costs nothing, and get 503 + ``Retry-After`` after
``ADMISSION_SECONDS``.

It bounds what a burst costs: the requests admitted queue for the API's worker threads
(``api.database``) in order, and everything else waits before any work is done for it.
``/api/health`` is never held back: it is how monitors see that the server is busy.
"""

from __future__ import annotations

import asyncio

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tradefleet.api.errors import RETRY_AFTER_SECONDS

UNLIMITED_PATHS = frozenset({"/api/health"})


class AdmissionLimit:
    """ASGI middleware: a fair (first come, first served) gate in front of the app."""

    def __init__(self, app: ASGIApp, *, limit: int, wait_seconds: float) -> None:
        self.app = app
        self._limit = limit
        self._wait = wait_seconds
        self._slots: asyncio.Semaphore | None = None  # made on the serving loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._limit)
        try:
            async with asyncio.timeout(self._wait):
                await self._slots.acquire()
        except TimeoutError:
            busy = JSONResponse(
                {"detail": "the server is busy; try again"},
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            await busy(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()

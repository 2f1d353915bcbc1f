"""405 and OPTIONS answers that tell the truth about a path's methods.

The router answers a method a path lacks with the ``Allow`` of the first route whose path
matched, so ``DELETE /api/bots`` said ``Allow: GET`` though the path also takes POST, and
``OPTIONS`` was a 405. Here a 405 lists every method any route of the path takes, and
``OPTIONS`` on an existing path is a 204 with that list (RFC 9110 sections 9.3.7, 15.5.6).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import fastapi.routing
from fastapi import FastAPI, Request, Response, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

# FastAPI 0.16x keeps included routers nested (this walks them); older ones flatten app.routes
_ROUTE_CONTEXTS: Any = getattr(fastapi.routing, "iter_route_contexts", None)


def _routes(app: FastAPI) -> Iterable[Any]:
    return app.routes if _ROUTE_CONTEXTS is None else _ROUTE_CONTEXTS(app.routes)


def route_path(request: Request) -> str:
    """The path routes match: the URL path without the ``root_path`` a proxy mounts us at."""
    path: str = request.scope["path"]
    root = request.scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) :].startswith("/"):
        return path[len(root) :]
    return path


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method a route of ``path`` takes, plus OPTIONS when there is one; sorted."""
    methods: set[str] = set()
    for route in _routes(app):
        regex = getattr(route, "path_regex", None)
        route_methods = getattr(route, "methods", None)
        if regex is not None and route_methods and regex.match(path):
            methods |= set(route_methods)
    return sorted(methods | {"OPTIONS"}) if methods else []


async def not_found(request: Request, exc: Exception) -> Response:
    """The web UI's files, mounted at /, take the GETs of every path: one of an API path that
    has no GET (``GET /api/auth/login``) is the 405 it would be without the UI."""
    assert isinstance(exc, HTTPException)
    methods = allowed_methods(request.app, route_path(request))
    if methods and request.method not in methods:
        return await method_not_allowed(request, exc)
    return await http_exception_handler(request, exc)


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    """OPTIONS on a path with routes: 204 and ``Allow``; any other 405: the full ``Allow``."""
    assert isinstance(exc, HTTPException)
    methods = allowed_methods(request.app, route_path(request))
    if not methods and exc.headers and "Allow" in exc.headers:  # the web UI's static files
        methods = sorted({*exc.headers["Allow"].split(", "), "OPTIONS"})
    if not methods:
        return await http_exception_handler(request, exc)
    allow = {"Allow": ", ".join(methods)}
    if request.method == "OPTIONS":
        return Response(status_code=status.HTTP_204_NO_CONTENT, headers=allow)
    return JSONResponse(
        {"detail": "Method Not Allowed"}, status.HTTP_405_METHOD_NOT_ALLOWED, headers=allow
    )

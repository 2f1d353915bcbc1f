"""Every failure becomes a JSON answer: 422 names the field, 404/409 say what is wrong, and an
unexpected error is a bare 500; never a traceback, never the rejected input echoed back
(it may be a password).

A 422 repeats little of what it was sent: at most ``MAX_ERRORS`` errors (then one entry
counting the rest), and each part of an error's location (a parameter name the client
chose) cut to ``MAX_ECHO`` characters; so a request with half a million unknown
parameters, or one 10 MB name, gets a short answer (the body's own size is capped by
``api.limits``)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, TypeVar

from fastapi import FastAPI, Request, Response, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException

from tradefleet.api.methods import method_not_allowed, not_found
from tradefleet.api.schemas.errors import FieldError, ValidationErrors
from tradefleet.market.base import MarketUnavailable
from tradefleet.services.errors import ConflictError, InvalidInputError, NotFoundError, ServiceError

logger = logging.getLogger(__name__)
T = TypeVar("T")

MAX_ERRORS = 20
MAX_ECHO = 100  # characters of one location part
MAX_MESSAGE = 1000  # characters of one message (ours are shorter; a bound all the same)


# Every 503 says when to try again: a client that honours it never piles on.
RETRY_AFTER_SECONDS = 2


class UnavailableError(Exception):
    """The engine or the market source failed; the request could not be completed."""

    def __init__(self, message: str, retry_after: int = RETRY_AFTER_SECONDS) -> None:
        self.message = message
        self.retry_after = retry_after
        super().__init__(message)


def invalid(location: str, field: str, message: str) -> RequestValidationError:
    """A 422 for a field checked in a handler, e.g. ``invalid("query", "timeframe", ...)``."""
    return RequestValidationError(
        [{"loc": (location, field), "msg": message, "type": "value_error"}]
    )


def market_unavailable(what: str, error: MarketUnavailable) -> UnavailableError:
    """The 503 for a market that cannot be reached: logged without a traceback (it is the
    network), and saying what a user can do (the exchange's: run offline)."""
    logger.warning("could not %s: %s", what, error)
    hint = error.hint or "the market data source is unavailable; see the server log"
    return UnavailableError(f"could not {what}: {hint}")


async def guarded(action: Awaitable[T], what: str) -> T:
    """Await an engine or market call; its failure is logged and answered with 503."""
    try:
        return await action
    except ServiceError:
        raise  # the engine refused for a reason the caller can act on (404/409/422)
    except MarketUnavailable as error:
        raise market_unavailable(what, error) from None
    except Exception:
        logger.exception("could not %s", what)
        raise UnavailableError(f"could not {what}; see the server log") from None


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` characters (then "…"), and encodable: a lone surrogate in a name
    would make the JSON answer itself fail."""
    short = text if len(text) <= limit else text[:limit] + "…"
    return short.encode("utf-8", "replace").decode("utf-8")


def _entry(loc: Sequence[Any], msg: object, kind: object) -> dict[str, Any]:
    parts = [part if isinstance(part, int) else _cut(str(part), MAX_ECHO) for part in loc]
    return {"loc": parts, "msg": _cut(str(msg), MAX_MESSAGE), "type": kind}


def _capped(detail: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first ``MAX_ERRORS`` errors and, if there were more, one entry counting them."""
    if len(detail) <= MAX_ERRORS:
        return detail
    rest = len(detail) - MAX_ERRORS
    more = {"loc": [], "msg": f"and {rest} more errors not listed", "type": "too_many_errors"}
    return [*detail[:MAX_ERRORS], more]


NOT_JSON = "must be a JSON object sent with Content-Type: application/json"
UNREADABLE_BODY = "could not be read as JSON: it must be UTF-8 text, nested at most 1000 deep"
PARSE_FAILURE = "There was an error parsing the body"  # FastAPI's 400 detail


def _field_error(error: Mapping[str, Any]) -> tuple[list[Any], object, object]:
    """One error's (loc, msg, type); a body that is not JSON is an error of ``["body"]``
    (FastAPI puts the character position in ``loc``, or checks raw bytes as an object)."""
    loc, kind = list(error.get("loc", ())), error.get("type")
    if kind == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "invalid syntax")
        where = f" at character {loc[1]}" if len(loc) > 1 else ""
        return ["body"], f"is not valid JSON: {reason}{where}", kind
    if loc == ["body"] and kind == "model_attributes_type":  # a body that is not an object
        if isinstance(error.get("input"), bytes | bytearray):  # not even read as JSON
            return ["body"], NOT_JSON, "content_type"
        return ["body"], "must be a JSON object", kind
    return loc, error.get("msg", ""), kind


def _error_list(errors: Sequence[Any]) -> list[dict[str, Any]]:
    return _capped([_entry(*_field_error(error)) for error in errors])


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        {"detail": _error_list(exc.errors())}, status.HTTP_422_UNPROCESSABLE_CONTENT
    )


async def _bad_request(request: Request, exc: Exception) -> Response:
    """FastAPI's only 400 is a body that fails to parse other than by JSON syntax (not
    UTF-8, nested too deep): a 422 on the body like every other bad body."""
    assert isinstance(exc, HTTPException)
    if exc.detail != PARSE_FAILURE:
        return await http_exception_handler(request, exc)
    detail = [{"loc": ["body"], "msg": UNREADABLE_BODY, "type": "json_invalid"}]
    return JSONResponse({"detail": detail}, status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _invalid_input(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidInputError)
    # "strategy_config.a.b" names parameter "a.b": only the first dot separates
    detail = [
        _entry(["body", *field.split(".", 1)], message, "value_error")
        for field, message in exc.problems
    ]
    return JSONResponse({"detail": _capped(detail)}, status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _not_found(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotFoundError)
    return JSONResponse({"detail": exc.message}, status.HTTP_404_NOT_FOUND)


async def _conflict(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ConflictError)
    return JSONResponse({"detail": exc.message}, status.HTTP_409_CONFLICT)


def _busy_answer(message: str, retry_after: int) -> JSONResponse:
    return JSONResponse(
        {"detail": message},
        status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(retry_after)},
    )


async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnavailableError)
    return _busy_answer(exc.message, exc.retry_after)


async def _pool_timeout(request: Request, _exc: Exception) -> JSONResponse:
    """Every database connection stayed in use for the pool's timeout: too busy now."""
    logger.warning("no database connection free in time for %s %s", request.method,
                   request.url.path)  # fmt: skip
    return _busy_answer("the database is busy; try again", RETRY_AFTER_SECONDS)


def _is_busy(exc: OperationalError) -> bool:
    """SQLite's write lock, or a PostgreSQL row lock (``lock_timeout``: SQLSTATE 55P03),
    held by another transaction past our wait."""
    return "database is locked" in str(exc) or getattr(exc.orig, "sqlstate", None) == "55P03"


async def _operational(request: Request, exc: Exception) -> JSONResponse:
    """A lock held past our wait is "busy, try again"; anything else is a 500."""
    assert isinstance(exc, OperationalError)
    if _is_busy(exc):
        logger.warning("database locked for %s %s", request.method, request.url.path)
        return _busy_answer("the database is busy; try again", RETRY_AFTER_SECONDS)
    return await _unexpected(request, exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal server error"}, status.HTTP_500_INTERNAL_SERVER_ERROR)


_REF = "#/components/schemas/"
VALIDATION_ANSWER = (
    "Invalid input: the body (not JSON, or not sent as application/json), a field, or a "
    "query or path parameter; each error names it in loc"
)


def _document_validation_errors(app: FastAPI) -> None:
    """The OpenAPI 422 says what our answer holds (``ValidationErrors``: always ``detail``,
    never ``input`` or ``ctx``), not FastAPI's default shape, under FastAPI's names."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()
        schemas = document.get("components", {}).get("schemas", {})
        if "HTTPValidationError" in schemas:  # done again on each call: it is idempotent
            errors = ValidationErrors.model_json_schema()
            del errors["$defs"]  # FieldError, published as ValidationError:
            errors["properties"]["detail"]["items"] = {"$ref": _REF + "ValidationError"}
            schemas["ValidationError"] = FieldError.model_json_schema()
            schemas["HTTPValidationError"] = errors
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    if "422" in operation.get("responses", {}):
                        operation["responses"]["422"]["description"] = VALIDATION_ANSWER
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    _document_validation_errors(app)
    app.add_exception_handler(400, _bad_request)
    app.add_exception_handler(404, not_found)
    app.add_exception_handler(405, method_not_allowed)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(InvalidInputError, _invalid_input)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(ConflictError, _conflict)
    app.add_exception_handler(UnavailableError, _unavailable)
    app.add_exception_handler(PoolTimeoutError, _pool_timeout)
    app.add_exception_handler(OperationalError, _operational)
    app.add_exception_handler(Exception, _unexpected)

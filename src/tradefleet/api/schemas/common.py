"""Field types shared by several schema families.

Each input type's OpenAPI schema says exactly what it accepts, so a generated client knows
the rules: where a rule cannot be said in JSON Schema (a JSON number's decimal places, a
moment outside years 1-9999 once in UTC) the description says it in words.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic_core import CoreSchema, PydanticCustomError

from tradefleet.api.errors import invalid
from tradefleet.market.base import TIMEFRAMES
from tradefleet.money import canonical
from tradefleet.services.bot_rules import text_problem
from tradefleet.services.paging import CURSOR_PATTERN, Cursor, Keyset

# Money leaves the API as a decimal string in plain form ("0.05", never "5E-2"), so clients
# keep every digit; it may arrive as a string or a JSON number.
MONEY_SERIALIZER = PlainSerializer(
    lambda value: format(canonical(value), "f"), return_type=str, when_used="json"
)
MONEY_TEXT = WithJsonSchema(
    {"type": "string", "pattern": r"^-?[0-9]+(?:\.[0-9]+)?$"}, mode="serialization"
)
Money = Annotated[Decimal, MONEY_SERIALIZER, MONEY_TEXT]

# A decimal string is ASCII digits with at most one point ("100", "0.05"): Python's Decimal
# would also read "1_000", "1e3", " 1 ", "+1", ".5" or "١٠٠", which nobody types as money.
_PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
PLAIN_DECIMAL_MESSAGE = (
    "must be a JSON number or a decimal string of digits with at most one point, "
    "such as 100 or 0.05 (no sign, exponent, spaces or separators)"
)


def _plain_decimal(value: object) -> object:
    if isinstance(value, str) and _PLAIN_DECIMAL.fullmatch(value) is None:
        raise PydanticCustomError("decimal_parsing", PLAIN_DECIMAL_MESSAGE)
    return value


def _decimal_schema(number: dict[str, Any], pattern: str) -> WithJsonSchema:
    """What a money input accepts: a JSON number within ``number``'s bounds, or a string
    matching ``pattern`` (which also carries the bounds and the 18 decimal places)."""
    return WithJsonSchema(
        {"anyOf": [{"type": "number", **number}, {"type": "string", "pattern": pattern}]},
        mode="validation",
    )


# Fractional parts end in at most 18 significant digits ("0.10" counts 1), as the Money
# columns keep 18 places; trailing zeros beyond them are harmless.
_FRACTION = r"\.[0-9]{1,18}0*"
POSITIVE_AMOUNT_PATTERN = rf"^(?:0*[1-9][0-9]{{0,19}}(?:{_FRACTION})?|0+\.[0-9]{{0,17}}[1-9]0*)$"
RATE_PATTERN = rf"^0+(?:{_FRACTION})?$"
AMOUNT_LIMIT = 10**20  # Money columns are NUMERIC(38, 18): below 1E+20

PositiveAmount = Annotated[
    Decimal,
    BeforeValidator(_plain_decimal),
    Field(gt=0, lt=AMOUNT_LIMIT, max_digits=38, decimal_places=18, allow_inf_nan=False),
    _decimal_schema(
        {"exclusiveMinimum": 0, "exclusiveMaximum": AMOUNT_LIMIT}, POSITIVE_AMOUNT_PATTERN
    ),
    MONEY_SERIALIZER,
    MONEY_TEXT,
]
"""A money amount > 0 and < 1E+20 with at most 18 decimal places (budgets)."""

Rate = Annotated[
    Decimal,
    BeforeValidator(_plain_decimal),
    Field(ge=0, lt=1, max_digits=38, decimal_places=18, allow_inf_nan=False),
    _decimal_schema({"minimum": 0, "exclusiveMaximum": 1}, RATE_PATTERN),
    MONEY_SERIALIZER,
    MONEY_TEXT,
]
"""A fraction 0 <= x < 1 with at most 18 decimal places (fees, slippage)."""

Timeframe = Annotated[
    str,
    WithJsonSchema({"type": "string", "enum": list(TIMEFRAMES)}),
    Field(examples=["5m"]),
]
"""A candle timeframe; checked by the service (``bot_rules.timeframe_problems``) with the
other fields, so one answer names every bad field."""

# Moments: ISO 8601 date-times as RFC 3339 writes them (``2024-05-01T12:00:00Z``, seconds
# required, optional fraction); without an offset they are UTC.
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
DATE_TIME_MESSAGE = "must be an ISO 8601 date-time such as 2024-05-01T12:00:00Z"
UTC_RANGE_MESSAGE = "is out of range: in UTC it must fall in the years 0001 to 9999"


def parse_date_time(value: object) -> datetime:
    """``value`` as an aware UTC datetime; PydanticCustomError for anything else, including
    unix numbers ("0.5" is not a moment) and moments that leave years 1-9999 in UTC."""
    if not isinstance(value, str) or _DATE_TIME.fullmatch(value) is None:
        raise PydanticCustomError("datetime_parsing", DATE_TIME_MESSAGE)
    try:
        moment = datetime.fromisoformat(value.upper())
    except ValueError:  # a day or an hour that does not exist
        raise PydanticCustomError("datetime_parsing", DATE_TIME_MESSAGE) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is in the year 0
        raise PydanticCustomError("datetime_range", UTC_RANGE_MESSAGE) from None


def _date_time(value: object) -> object:
    return value if isinstance(value, datetime) else parse_date_time(value)


DATE_TIME_DESCRIPTION = (
    "ISO 8601 date-time, e.g. 2024-05-01T12:00:00Z (UTC when it has no offset); "
    "in UTC it must fall in the years 0001 to 9999"
)
IsoDateTime = Annotated[
    datetime,
    BeforeValidator(_date_time),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="validation"),
    Field(description=DATE_TIME_DESCRIPTION),
]
"""An input moment, always aware and in UTC."""


def _plain(text: str) -> str:
    problem = text_problem(text)
    if problem is not None:
        raise PydanticCustomError("value_error", problem)
    return text


def _free(text: str) -> str:
    problem = text_problem(text, line_breaks=True)
    if problem is not None:
        raise PydanticCustomError("value_error", problem)
    return text


@dataclasses.dataclass(frozen=True, slots=True)
class _TextRule(AfterValidator):
    """The check, and its pattern in the OpenAPI schema (a lone surrogate, also refused,
    is a UTF-16 matter JSON Schema patterns cannot name)."""

    pattern: str = ""

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        published = handler(schema)
        published["pattern"] = self.pattern
        return published


# Text that is stored or compared: no NUL (PostgreSQL refuses it: a 500 before this
# check), no other control character and no lone surrogate; ``FreeText`` may hold tabs
# and line breaks. The 422 says where the bad character is, never the text.
PLAIN_TEXT_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
FREE_TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
PlainText = _TextRule(_plain, pattern=PLAIN_TEXT_PATTERN)
FreeText = _TextRule(_free, pattern=FREE_TEXT_PATTERN)

# Row ids are 32-bit on PostgreSQL: larger numbers are refused (422), never a 500.
MAX_ROW_ID = 2_147_483_647
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="row id")]
RowIdFilter = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)]
# Paging query parameters of every list route.
Limit = Annotated[int, Query(ge=1, le=500, description="rows per page, at most 500")]
OFFSET_DESCRIPTION = (
    "deprecated: rows to skip; rows arriving meanwhile shift offset pages (rows repeat or "
    "are missed), use cursor"
)
Offset = Annotated[int, Query(ge=0, le=MAX_ROW_ID, description=OFFSET_DESCRIPTION, deprecated=True)]
CURSOR_DESCRIPTION = (
    "next_cursor of the previous page: the page after its last row, in the same order; "
    "stable while rows arrive (none repeats, none is missed)"
)
CursorText = Annotated[
    str | None,
    Query(pattern=CURSOR_PATTERN, max_length=40, description=CURSOR_DESCRIPTION),
]


def read_cursor(keyset: Keyset, text: str | None) -> Cursor | None:
    """The cursor a list route was given, checked against its list (422 on ``cursor``)."""
    if text is None:
        return None
    try:
        return keyset.decode(text)
    except ValueError as error:
        raise invalid("query", "cursor", str(error)) from None


NextCursor = Annotated[
    str | None, Field(description="cursor of the next page (pass it as cursor); null on the last")
]


class ErrorMessage(BaseModel):
    """The body of every 401, 404, 409 and 503 answer."""

    detail: str


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a router gives, so generated clients know them."""
    return {code: {"model": ErrorMessage} for code in codes}

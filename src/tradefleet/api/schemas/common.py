"""Field types shared by several schema families."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, Field, PlainSerializer
from pydantic_core import PydanticCustomError

from tradefleet.api.errors import invalid
from tradefleet.money import canonical
from tradefleet.services.bot_rules import text_problem
from tradefleet.services.paging import CURSOR_PATTERN, Cursor, Keyset

# Money leaves the API as a decimal string in plain form ("0.05", never "5E-2"), so clients
# keep every digit; it may arrive as a string or a JSON number.
MONEY_SERIALIZER = PlainSerializer(
    lambda value: format(canonical(value), "f"), return_type=str, when_used="json"
)
Money = Annotated[Decimal, MONEY_SERIALIZER]
Rate = Annotated[
    Decimal,
    Field(ge=0, lt=1, max_digits=38, decimal_places=18, allow_inf_nan=False),
    MONEY_SERIALIZER,
]


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


# Text that is stored or compared: no NUL (PostgreSQL refuses it: a 500 before this
# check), no other control character and no lone surrogate; ``FreeText`` may hold tabs
# and line breaks. The 422 says where the bad character is, never the text.
PlainText = AfterValidator(_plain)
FreeText = AfterValidator(_free)
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

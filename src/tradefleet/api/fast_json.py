"""Long lists encoded straight to JSON, without a pydantic model per row.

FastAPI turns a route's return value into JSON through its response model: for the list
of a thousand bots, building and encoding a model per bot cost most of the request. A
route that returns rows the database already holds in their published form (the API
stored them) may instead answer ``FastJSON``; it keeps its ``response_model``, so the
OpenAPI schema and the generated front-end types still describe the answer, and a test
holds the two encodings equal (``tests/api/test_api_fast_json.py``).

Encoded as pydantic encodes the same values: datetimes in RFC 3339 with ``Z`` for UTC,
non-finite floats as null, and every Decimal as money text (``schemas.common.Money``:
plain digits, no exponent, no trailing zeros).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from starlette.responses import Response

from tradefleet.money import canonical


def _money_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(canonical(value), "f")
    raise TypeError(f"{type(value).__name__} is not encoded by FastJSON")


def encode(content: Any) -> bytes:
    return orjson.dumps(content, default=_money_text, option=orjson.OPT_UTC_Z)


class FastJSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return encode(content)

"""Login schemas; the password is a ``SecretStr`` so it can never be echoed back."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr
from pydantic_core import PydanticCustomError

from tradefleet.api.schemas.common import PlainText

# A password may hold any character that can be encoded: not a lone surrogate (its
# encoding would fail: a 500 before this check) and not NUL (which no one types).
_UNUSABLE = re.compile("[\\x00\\ud800-\\udfff]")


def _usable(password: SecretStr) -> SecretStr:
    if _UNUSABLE.search(password.get_secret_value()) is not None:
        raise PydanticCustomError(
            "value_error", "must not contain NUL or a lone surrogate character"
        )
    return password


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, Field(max_length=100), PlainText]
    password: Annotated[
        SecretStr,
        Field(max_length=1024, json_schema_extra={"pattern": r"^[^\x00]*$"}),
        AfterValidator(_usable),
    ]


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"

"""Login schemas; the password is a ``SecretStr`` so it can never be echoed back."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, Field(max_length=100)]
    password: Annotated[SecretStr, Field(max_length=1024)]


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"

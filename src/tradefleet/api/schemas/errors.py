"""The body of a 422 answer, as ``api.errors`` writes it and the OpenAPI schema says."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FieldError(BaseModel):
    """One bad input: where it is and what is wrong (the input itself is never echoed)."""

    model_config = ConfigDict(extra="forbid", title="ValidationError")

    loc: list[str | int] = Field(
        description='"body", "query" or "path", then the field\'s path: ["body", "budget"], '
        '["query", "since"], ["body", "strategy_config", "rsi_period"]; just ["body"] when '
        "the body itself is wrong (not JSON, or not sent as application/json)"
    )
    msg: str
    type: str = Field(description='the kind of problem: "missing", "value_error", ...')


class ValidationErrors(BaseModel):
    """The body of every 422 answer: each bad field, all at once where they can be known."""

    model_config = ConfigDict(extra="forbid", title="HTTPValidationError")

    detail: list[FieldError]

"""Health check schema: answered without a token, so it carries no private data."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "error"]
    engine: dict[str, Any]

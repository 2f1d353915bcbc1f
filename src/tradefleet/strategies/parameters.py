"""Strategy parameter definitions and the validation of a bot's strategy config against them.

The definitions are data (pydantic models) so the API can serve them, the web UI can build
its forms from them and the optimiser can read their bounds; validation lives next to them
so every caller rejects a bad config with the same field-level messages.

``min``/``max`` are validation limits: what a bot accepts. ``search_min``/``search_max``
are the optimiser's default search range: the values worth trying, inside those limits
(a take profit may be up to 1000 %, but a search tries 0.5 to 10 %).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, model_validator

ParamType = Literal["int", "float", "bool", "choice"]
ParamGroup = Literal["signal", "entry", "exit", "deal", "risk", "grid"]
ParamValue = bool | int | float | str
FieldError = dict[str, str]


class StrategyConfigError(ValueError):
    """A strategy config was rejected; ``errors`` holds one ``{"field", "message"}`` per problem."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))


def field_error(field: str, message: str) -> FieldError:
    return {"field": field, "message": message}


class StrategyParameter(BaseModel):
    """One tunable value of a strategy, with its bounds (inclusive), its default search
    range (inclusive, within the bounds; None = search the bounds) and how to present it."""

    model_config = ConfigDict(frozen=True)

    name: str
    type: ParamType
    default: ParamValue
    min: int | float | None = None
    max: int | float | None = None
    choices: tuple[str, ...] | None = None
    unit: str = ""
    description: str = ""
    group: ParamGroup = "signal"
    search_min: int | float | None = None
    search_max: int | float | None = None

    @model_validator(mode="after")
    def _default_is_valid(self) -> Self:
        """A definition whose own default fails validation is a programming error."""
        if self.type == "choice" and not self.choices:
            raise ValueError(f"{self.name}: a choice parameter needs choices")
        _, message = self.check(self.default)
        if message:
            raise ValueError(f"{self.name}: default {self.default!r} {message}")
        return self

    @model_validator(mode="after")
    def _search_range_is_valid(self) -> Self:
        """A search range outside the bounds would make the optimiser try refused values."""
        message = _search_range_error(self)
        if message:
            raise ValueError(f"{self.name}: search range {message}")
        return self

    @property
    def search_range(self) -> tuple[float, float] | None:
        """The default search range, or None when the parameter gives none."""
        if self.search_min is None or self.search_max is None:
            return None
        return float(self.search_min), float(self.search_max)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def check(self, value: object) -> tuple[ParamValue | None, str]:
        """The value converted to this parameter's type, or ``(None, reason)``."""
        converted, message = _convert(self, value)
        if converted is None or isinstance(converted, (bool, str)):
            return converted, message
        if self.min is not None and converted < self.min:
            return None, f"must be at least {_fmt(self.min)}"
        if self.max is not None and converted > self.max:
            return None, f"must be at most {_fmt(self.max)}"
        return converted, ""


def _search_range_error(param: StrategyParameter) -> str:
    """Both ends or neither, numeric only, finite, low below high, inside ``min``..``max``."""
    ends = {"search_min": param.search_min, "search_max": param.search_max}
    given = {name: value for name, value in ends.items() if value is not None}
    if not given:
        return ""
    if param.type in {"bool", "choice"}:
        return f"not allowed: a {param.type} parameter has no numeric range"
    if len(given) == 1:
        return f"needs both search_min and search_max, not only {next(iter(given))}"
    for name, value in given.items():
        if not math.isfinite(value):
            return f"{name} must be a finite number"
        if param.type == "int" and not float(value).is_integer():
            return f"{name} of an int parameter must be a whole number"
    low, high = float(given["search_min"]), float(given["search_max"])
    if not low < high:
        return f"search_min {_fmt(low)} must be below search_max {_fmt(high)}"
    for name, value in given.items():
        _, message = param.check(int(value) if param.type == "int" else value)
        if message:
            return f"must lie within the parameter's bounds: {name} {_fmt(value)} {message}"
    return ""


def _fmt(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else repr(float(bound))


def _convert(param: StrategyParameter, value: object) -> tuple[ParamValue | None, str]:
    """Strict type check: JSON gives exact types, so nothing is coerced from strings or bools."""
    if param.type == "bool":
        return (value, "") if isinstance(value, bool) else (None, "must be true or false")
    if param.type == "choice":
        if isinstance(value, str) and param.choices and value in param.choices:
            return value, ""
        return None, f"must be one of: {', '.join(param.choices or ())}"
    if isinstance(value, bool):
        return None, f"must be {'an integer' if param.type == 'int' else 'a number'}, not a boolean"
    if param.type == "int":
        return (int(value), "") if isinstance(value, Integral) else (None, "must be an integer")
    if not isinstance(value, Real):
        return None, "must be a number"
    number = float(value)
    if not math.isfinite(number):
        return None, "must be a finite number"
    return number, ""


class StrategyDefinition(BaseModel):
    """What a strategy is and which parameters it takes: served as-is by the API."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    description: str
    parameters: tuple[StrategyParameter, ...]

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        names = [p.name for p in self.parameters]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.id}: duplicate parameter names in {names}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def defaults(self) -> dict[str, ParamValue]:
        return {p.name: p.default for p in self.parameters}


def validate_values(
    parameters: tuple[StrategyParameter, ...], config: Mapping[str, Any] | None
) -> tuple[dict[str, Any], list[FieldError]]:
    """Per-field validation: unknown names, types and ranges; missing names take defaults."""
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        return {}, [field_error("config", "must be an object of parameter names to values")]
    by_name = {p.name: p for p in parameters}
    errors = [
        field_error(str(name), f"unknown parameter; expected one of: {', '.join(by_name)}")
        for name in config
        if name not in by_name
    ]
    values: dict[str, Any] = {}
    for param in parameters:
        if param.name not in config:
            values[param.name] = param.default
            continue
        converted, message = param.check(config[param.name])
        if message:
            errors.append(field_error(param.name, message))
        else:
            values[param.name] = converted
    return values, errors

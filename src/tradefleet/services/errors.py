"""Typed failures of service operations: the API maps them to 404/409/422, the CLI to exit 2."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of the errors a caller can show to a user as they are (no secrets, no traceback)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class NotFoundError(ServiceError):
    """The named record does not exist (``"bot 7 not found"``)."""


class ConflictError(ServiceError):
    """The request is well-formed but clashes with the current state (duplicate name, ...)."""


class InvalidInputError(ServiceError):
    """One or more input fields are invalid; ``problems`` lists ``(field, message)`` pairs.

    ``field`` is a dotted path: ``"budget"``, ``"strategy_config.rsi_period"``.
    """

    def __init__(self, field: str, message: str) -> None:
        self.problems: list[tuple[str, str]] = [(field, message)]
        super().__init__(f"{field}: {message}")

    @property
    def field(self) -> str:
        return self.problems[0][0]

    @classmethod
    def of(cls, problems: list[tuple[str, str]]) -> InvalidInputError:
        """One error carrying every problem found (``problems`` must not be empty)."""
        error = cls(*problems[0])
        error.problems = list(problems)
        error.message = "; ".join(f"{field}: {message}" for field, message in problems)
        error.args = (error.message,)
        return error

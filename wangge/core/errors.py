"""One error type for business rules; the API renders it as {code, message, fields}."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal a person can act on. `message` is shown to them as it is."""

    status = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        fields: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = str(message)
        if status is not None:
            self.status = status
        self.fields = fields or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "fields": self.fields}


class NotFound(DomainError):
    status = 404


class OutOfScope(DomainError):
    status = 403


class InvalidInput(DomainError):
    status = 422

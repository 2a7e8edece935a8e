"""Domain errors. Services raise these; one handler maps them to HTTP and the JSON error shape
``{"error": {"code", "message", "fields"}}``."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code

    def as_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": str(self.message), "fields": self.fields}}


class ValidationFailed(DomainError):
    status = 422
    code = "validation_error"

    @classmethod
    def field(cls, name: str, message: str) -> ValidationFailed:
        return cls(f"{name}: {message}", fields={name: [str(message)]})


class NotFound(DomainError):
    status = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


def require_choice(name: str, value: str, allowed: Collection[str]) -> None:
    """``ValidationFailed`` naming the field unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValidationFailed.field(name, f"must be one of {', '.join(allowed)}")


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}

"""FHIR errors: every refusal is an ``OperationOutcome`` with the HTTP status that goes with it."""

from __future__ import annotations

from typing import Any

from clinicflow.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed

# HTTP status -> the OperationOutcome issue code (http://hl7.org/fhir/R4/valueset-issue-type.html)
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    415: "not-supported",
    422: "processing",
}


class FhirError(Exception):
    """A refusal: ``status`` (HTTP), the issue ``code`` and its ``diagnostics``; ``expression`` names
    the element at fault as a FHIRPath (``Patient.birthDate``, ``Bundle.entry[2].resource``)."""

    def __init__(
        self, status: int, diagnostics: str, *, code: str | None = None, expression: list[str] | None = None
    ) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.code = code or ISSUE_CODES.get(status, "exception")
        self.diagnostics = diagnostics
        self.expression = [e for e in expression or [] if e]

    def at(self, prefix: str) -> FhirError:
        """The same error with its expressions (or the prefix alone) under ``prefix``."""
        expression = [f"{prefix}.{_inside(e)}" for e in self.expression] or [prefix]
        return FhirError(self.status, self.diagnostics, code=self.code, expression=expression)

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.code, self.diagnostics, self.expression)


def _inside(expression: str) -> str:
    """``Appointment.start`` -> ``start``: the path inside a resource that sits in a Bundle entry."""
    head, _, rest = expression.partition(".")
    return rest if rest and head[:1].isupper() else expression


def invalid(diagnostics: str, *expression: str) -> FhirError:
    """400: the request itself is malformed (a bad search parameter, JSON that is no resource)."""
    return FhirError(400, diagnostics, expression=list(expression))


def unprocessable(diagnostics: str, *expression: str) -> FhirError:
    """422: a well-formed resource that Clinicflow cannot store (a missing element, a bad value)."""
    return FhirError(422, diagnostics, expression=list(expression))


def operation_outcome(code: str, diagnostics: str, expression: list[str] | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = expression
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def from_domain(exc: DomainError, *, element: str = "") -> FhirError:
    """A service's refusal as a FHIR error: 422 for a rule (naming the field), 409 for a taken time."""
    fields = [f"{element}.{name}" if element else name for name in exc.fields]
    if isinstance(exc, Conflict):
        return FhirError(409, str(exc.message), code="conflict", expression=fields)
    if isinstance(exc, NotFound):
        return FhirError(404, str(exc.message), code="not-found", expression=fields)
    if isinstance(exc, PermissionDenied):
        return FhirError(403, str(exc.message), code="forbidden", expression=fields)
    if isinstance(exc, ValidationFailed):
        return FhirError(422, str(exc.message), code="processing", expression=fields)
    return FhirError(exc.status if 400 <= exc.status < 500 else 400, str(exc.message), expression=fields)

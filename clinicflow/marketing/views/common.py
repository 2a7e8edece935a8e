"""What the marketing pages share: a service's refusal shown on the form field it names."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.http import HttpRequest

from clinicflow.core.errors import DomainError

T = TypeVar("T")


def show_errors(form: forms.Form, exc: DomainError) -> None:
    """On the field the error names (``filters.age_min`` -> ``age_min``), else above the form."""
    for name, errors in exc.fields.items():
        short = name.split(".", 1)[1] if name.startswith("filters.") else name
        form.add_error(short if short in form.fields else None, f"{name}: {'; '.join(errors)}")
    if not exc.fields:
        form.add_error(None, str(exc.message))


def attempt(request: HttpRequest, form: forms.Form, write: Callable[[], T], done: str) -> T | None:
    """Call the service; flash ``done`` and return its result, or show its refusal on the form."""
    try:
        result = write()
    except DomainError as exc:
        show_errors(form, exc)
        return None
    messages.success(request, done)
    return result


def pick(options: dict[str, T], key: str | None) -> T | None:
    """The object a form's choice names (the choices were the organisation's own), or None."""
    return options.get(key) if key else None

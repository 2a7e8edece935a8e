"""What every acquisition form shares: choices limited to the organisation, domain errors shown on the
form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from clinicflow.core.errors import DomainError
from clinicflow.core.models import Branch, Organization


def org_branches(*, org: Organization) -> QuerySet[Branch]:
    """The organisation's branches as a model choice field's queryset."""
    qs: QuerySet[Branch] = Branch.objects.for_org(org)
    return qs


def limit_choices(form: forms.Form, **querysets: QuerySet[Any]) -> None:
    """Give each named model choice field of ``form`` its organisation's queryset."""
    for name, queryset in querysets.items():
        field = form.fields[name]
        if not isinstance(field, forms.ModelChoiceField):
            raise TypeError(f"{name} is not a model choice field")
        field.queryset = queryset


def set_choices(form: forms.Form, **choices: list[tuple[str, Any]]) -> None:
    """Give each named choice field of ``form`` its choices (known only when the form is made)."""
    for name, values in choices.items():
        field = form.fields[name]
        if not isinstance(field, forms.ChoiceField):
            raise TypeError(f"{name} is not a choice field")
        field.choices = values


def add_domain_errors(form: forms.Form, exc: DomainError) -> None:
    """Show a service's refusal on the form: on the fields it names, else above the form."""
    for name, errs in exc.fields.items():
        form.add_error(name if name in form.fields else None, "; ".join(errs))
    if not exc.fields:
        form.add_error(None, exc.message)

"""Forms of the consultation pages: the consultation (its checklist from the template version), a
quote's lines, and the template editor."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clinicflow.catalogue.models import Service, ServiceCategory
from clinicflow.clinical.models.consultations import (
    ConsultationOutcome,
    ConsultationTemplateVersion,
    DiscountKind,
    LineKind,
)

QUOTE_ROWS = 8
TEXTAREA = {"rows": 3, "class": "form-control"}


def _text(label: Any, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, max_length=5000, widget=forms.Textarea(attrs=TEXTAREA)
    )


class ConsultationForm(forms.Form):
    category = forms.ChoiceField(label=_("Service group"), choices=ServiceCategory.choices)
    concerns = _text(_("Concerns, in the patient's words"))
    areas = _text(_("Areas"))
    goals = _text(_("Goals"))
    risks_discussed = _text(_("Risks discussed"))
    alternatives_discussed = _text(_("Alternatives discussed"))
    recovery_timeline = _text(_("Recovery timeline explained"))
    result_visible = forms.CharField(
        label=_("When the final result becomes visible"), max_length=200, required=False
    )
    expectation = forms.IntegerField(
        label=_("Expectation (0-10): how big a change do you expect?"), min_value=0, max_value=10
    )
    expectation_words = _text(_("Expectation in the patient's words"))
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ConsultationOutcome.choices, required=False)
    outcome_reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(self, *args: Any, version: ConsultationTemplateVersion | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.checklist = list(version.contraindications) if version else []
        self.questions = list(version.questions) if version else []
        for i, item in enumerate(self.checklist):
            self.fields[f"ci_{i}"] = forms.BooleanField(label=item, required=False)
        for i, question in enumerate(self.questions):  # the clinic's own questions: a short answer each
            self.fields[f"q_{i}"] = forms.CharField(label=question, required=False, max_length=500)

    def checklist_fields(self) -> list[forms.BoundField]:
        return [self[f"ci_{i}"] for i in range(len(self.checklist))]

    def question_fields(self) -> list[forms.BoundField]:
        return [self[f"q_{i}"] for i in range(len(self.questions))]

    def data_for_service(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if not k.startswith(("ci_", "q_"))}
        data["contraindications"] = {
            item: bool(self.cleaned_data.get(f"ci_{i}")) for i, item in enumerate(self.checklist)
        }
        data["answers"] = {
            q: str(self.cleaned_data.get(f"q_{i}") or "").strip()
            for i, q in enumerate(self.questions)
            if str(self.cleaned_data.get(f"q_{i}") or "").strip()
        }
        return data


class QuoteForm(forms.Form):
    """Up to QUOTE_ROWS lines (``kind_N``, ``service_N`` ...); empty rows are skipped."""

    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs=TEXTAREA)
    )

    def __init__(self, *args: Any, services: list[Service], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        service_choices = [("", "—"), *((str(s.pk), s.display_name) for s in services)]
        for n in range(QUOTE_ROWS):
            self.fields[f"kind_{n}"] = forms.ChoiceField(
                label=_("Kind"), choices=[("", "—"), *LineKind.choices], required=False
            )
            self.fields[f"service_{n}"] = forms.ChoiceField(
                label=_("Service"), choices=service_choices, required=False
            )
            self.fields[f"description_{n}"] = forms.CharField(
                label=_("Description"), max_length=300, required=False
            )
            self.fields[f"unit_price_{n}"] = forms.DecimalField(
                label=_("Unit price"), required=False, max_digits=12, decimal_places=2
            )
            self.fields[f"quantity_{n}"] = forms.DecimalField(
                label=_("Quantity"), required=False, max_digits=9, decimal_places=2
            )
            self.fields[f"discount_kind_{n}"] = forms.ChoiceField(
                label=_("Discount"), choices=DiscountKind.choices, required=False
            )
            self.fields[f"discount_value_{n}"] = forms.DecimalField(
                label=_("Discount value"), required=False, max_digits=12, decimal_places=2
            )
            self.fields[f"discount_reason_{n}"] = forms.CharField(
                label=_("Discount reason"), max_length=200, required=False
            )
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", str(field.label))
            field.widget.attrs.setdefault("class", "form-control form-control-sm")

    NAMES = (
        "kind",
        "service",
        "description",
        "unit_price",
        "quantity",
        "discount_kind",
        "discount_value",
        "discount_reason",
    )

    def rows(self) -> list[list[forms.BoundField]]:
        return [[self[f"{name}_{n}"] for name in self.NAMES] for n in range(QUOTE_ROWS)]

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for n in range(QUOTE_ROWS):
            row = {name: self.cleaned_data.get(f"{name}_{n}") for name in self.NAMES}
            if row["kind"]:
                out.append(row)
        return out


def _lines(label: Any, help_text: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=20000,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 6, "class": "form-control"}),
    )


class TemplateForm(forms.Form):
    category = forms.ChoiceField(label=_("Service group"), choices=ServiceCategory.choices)
    contraindications = _lines(_("Contraindications checklist"), _("One item a line."))
    risks = _lines(_("Risks to discuss"), _("One item a line."))
    alternatives = _lines(_("Alternatives to discuss"), _("One item a line."))
    questions = _lines(_("Questions to ask"), _("One question a line; each gets a short answer."))

    def items(self, name: str) -> list[str]:
        return [line.strip() for line in str(self.cleaned_data.get(name) or "").splitlines() if line.strip()]

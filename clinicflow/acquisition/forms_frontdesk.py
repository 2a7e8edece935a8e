"""Forms of the front-desk pages: call-log filters, tags, checklist scores, administrator, review list,
checklist editor. They only validate input; the services write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clinicflow.acquisition.models import CallTag, ReviewVerdict

STATUS_CHOICES = [("", _("All")), ("answered", _("Answered")), ("missed", _("Missed"))]


class CallLogFilterForm(forms.Form):
    date = forms.DateField(label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    unique = forms.BooleanField(label=_("Unique only"), required=False)
    tag = forms.ChoiceField(label=_("Tag"), choices=[("", _("All tags")), *CallTag.choices], required=False)


class CallTagForm(forms.Form):
    tags = forms.MultipleChoiceField(
        label=_("Tags"), choices=CallTag.choices, required=False, widget=forms.CheckboxSelectMultiple
    )


class CallScoreForm(forms.Form):
    passed = forms.MultipleChoiceField(label=_("Passed"), required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, items: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["passed"].choices = items  # type: ignore[attr-defined]


class AdministratorForm(forms.Form):
    administrator = forms.ChoiceField(label=_("Administrator"), required=False)

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["administrator"].choices = [("", _("— nobody —")), *choices]  # type: ignore[attr-defined]


class ReviewAddForm(forms.Form):
    verdict = forms.ChoiceField(label=_("Verdict"), choices=ReviewVerdict.choices, widget=forms.RadioSelect)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class WeekForm(forms.Form):
    week = forms.DateField(label=_("Week"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class CallbackDoneForm(forms.Form):
    outcome = forms.CharField(label=_("Outcome"), max_length=200, required=False)


class ChecklistAddForm(forms.Form):
    label = forms.CharField(label=_("New item"), max_length=200)


class ChecklistItemForm(forms.Form):
    item = forms.SlugField(max_length=40)
    direction = forms.ChoiceField(choices=[("up", "up"), ("down", "down")], required=False)

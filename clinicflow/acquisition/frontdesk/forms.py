"""Forms of the front-desk pages: call-log filters, tags, checklist scores, administrator, review list,
checklist editor. They only validate input; the services write."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clinicflow.accounts.models import User
from clinicflow.acquisition.forms import set_choices
from clinicflow.acquisition.frontdesk.selectors import CallLogFilter
from clinicflow.acquisition.models import CallTag, ReviewVerdict

STATUS_CHOICES = [("", _("All")), ("answered", _("Answered")), ("missed", _("Missed"))]


class CallLogFilterForm(forms.Form):
    date = forms.DateField(label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    unique = forms.BooleanField(label=_("Unique only"), required=False)
    tag = forms.ChoiceField(label=_("Tag"), choices=[("", _("All tags")), *CallTag.choices], required=False)

    def log_filter(self) -> CallLogFilter:
        """The chosen filters; none when any is invalid."""
        if not self.is_valid():
            return CallLogFilter()
        cd = self.cleaned_data
        return CallLogFilter(
            day=cd.get("date"),
            status=cd.get("status") or "",
            unique_only=bool(cd.get("unique")),
            tag=cd.get("tag") or "",
        )


class CallTagForm(forms.Form):
    tags = forms.MultipleChoiceField(
        label=_("Tags"), choices=CallTag.choices, required=False, widget=forms.CheckboxSelectMultiple
    )


class CallScoreForm(forms.Form):
    passed = forms.MultipleChoiceField(label=_("Passed"), required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, items: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, passed=items)


class AdministratorForm(forms.Form):
    """The administrator who took the call, among ``admins`` (value: the user's id); cleans to the user
    (``None``: nobody)."""

    administrator = forms.ChoiceField(label=_("Administrator"), required=False)

    def __init__(self, *args: Any, admins: Sequence[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.admins = {str(u.pk): u for u in admins}
        set_choices(
            self,
            administrator=[
                ("", _("— nobody —")),
                *((k, u.full_name or u.email) for k, u in self.admins.items()),
            ],
        )

    def clean_administrator(self) -> User | None:
        return self.admins.get(self.cleaned_data.get("administrator") or "")


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


class ChecklistMoveForm(ChecklistItemForm):
    direction = forms.ChoiceField(choices=[("up", "up"), ("down", "down")])


class FeedCursorForm(forms.Form):
    """The live feed's position (see ``FeedCursor``); read apart from the filters so that a bad filter
    does not lose it."""

    cursor = forms.CharField(required=False, strip=False)

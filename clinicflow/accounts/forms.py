"""Forms of the account pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from clinicflow.accounts.breakglass import DEFAULT_MINUTES, MAX_REASON, MIN_REASON

OPENED = _("Emergency access opened. Every view of this card is recorded.")
DURATIONS = [
    (15, _("15 minutes")),
    (30, _("30 minutes")),
    (60, _("1 hour")),
    (120, _("2 hours")),
    (240, _("4 hours")),
]


class BreakGlassForm(forms.Form):
    """Emergency access to one patient: why, for how long, and the password again."""

    reason = forms.CharField(
        label=_("Reason"),
        min_length=MIN_REASON,
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why you need this card now. The owner sees it."),
    )
    minutes = forms.TypedChoiceField(label=_("For"), choices=DURATIONS, coerce=int, initial=DEFAULT_MINUTES)
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

"""Forms of the messaging pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class MessageTemplateForm(forms.Form):
    """An organisation's own text of one message kind, channel and language (placeholders are
    checked by ``configuration.message_template_save``)."""

    subject = forms.CharField(label=_("Subject"), max_length=300, required=False, strip=False)
    body = forms.CharField(label=_("Text"), max_length=10_000, required=False, strip=False)

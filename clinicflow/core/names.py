"""Translatable names of a clinic's own records (services, branches, channels, the organisation).

A record keeps its ``name`` in the clinic's language and, beside it, ``name_i18n``: a JSON object of
translations by interface language (``{"en": "Botulinum therapy", "zh-hans": "肉毒素注射"}``).
``display_name`` is the translation for the active interface language, else ``name``. Forms and the
API take the translations as optional per-language fields (``name_en``, ``name_ru``,
``name_zh_hans``); an error names that field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from clinicflow.core.errors import ValidationFailed

LANGS = ("en", "ru", "zh-hans")  # settings.LANGUAGES, in their order


def lang_field(lang: str) -> str:
    """The per-language input field of a translation: ``name_en``, ``name_ru``, ``name_zh_hans``."""
    return "name_" + lang.replace("-", "_")


LANG_FIELDS = {lang: lang_field(lang) for lang in LANGS}


def names_field() -> models.JSONField[Any, Any]:
    return models.JSONField(
        _("name in other languages"),
        default=dict,
        blank=True,
        help_text=_("Translations of the name by interface language, e.g. en, ru, zh-hans."),
    )


def localized(name: str, names: Mapping[str, Any] | None, lang: str | None = None) -> str:
    """``names``' text for ``lang`` (the active language by default; ``zh`` finds ``zh-hans`` and
    ``zh-hans`` finds ``zh``), else ``name``."""
    if not names:
        return name
    code = (lang or get_language() or "en").lower()
    base = code.split("-")[0]
    for key in (code, base, *(k for k in names if k.split("-")[0] == base)):
        text = names.get(key)
        if isinstance(text, str) and text.strip():
            return text
    return name


def clean_names(names: Mapping[str, Any] | None, *, max_length: int) -> dict[str, str]:
    """Translations to store: known languages only, trimmed, blank ones dropped, at most
    ``max_length`` characters; ``ValidationFailed`` naming the per-language field otherwise."""
    out: dict[str, str] = {}
    for lang, text in (names or {}).items():
        if lang not in LANG_FIELDS:
            known = ", ".join(LANGS)
            raise ValidationFailed.field("name_i18n", f"unknown language {lang!r} (one of {known})")
        field = LANG_FIELDS[lang]
        if text is None:
            continue
        if not isinstance(text, str):
            raise ValidationFailed.field(field, "must be text")
        value = text.strip()
        if len(value) > max_length:
            raise ValidationFailed.field(field, f"at most {max_length} characters")
        if value:
            out[lang] = value
    return out


def names_from_fields(values: Mapping[str, Any]) -> dict[str, str]:
    """The translations among a form's cleaned data or an API payload (``name_en`` ... keys), blank
    ones dropped; the result is checked by ``clean_names``."""
    return {lang: values[f] for lang, f in LANG_FIELDS.items() if values.get(f) not in (None, "")}


def fields_from_names(names: Mapping[str, Any] | None) -> dict[str, str]:
    """The per-language fields of stored translations: a form's initial values."""
    return {f: str((names or {}).get(lang) or "") for lang, f in LANG_FIELDS.items()}


class TranslatedName:
    """For a model with ``name`` and ``name_i18n``: the name in the active interface language."""

    name: str
    name_i18n: Any

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_i18n)

    def name_in(self, lang: str) -> str:
        """The name in a given language (a patient's, for a message), falling back to ``name``."""
        return localized(self.name, self.name_i18n, lang)

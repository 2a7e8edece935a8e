"""Every UI string is translated into Russian and Simplified Chinese, and the catalogues are compiled."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(ROOT.glob("*/locale/*/LC_MESSAGES/django.po"))


def _entries(po: Path) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr (all plural forms joined), fuzzy) for every entry but the header."""
    entries = []
    text = po.read_text(encoding="utf-8")
    for block in re.split(r"\n\s*\n", text):
        if "msgid" not in block or block.lstrip().startswith("#~"):
            continue
        fuzzy = "#, fuzzy" in block or re.search(r"#,.*\bfuzzy\b", block) is not None
        parts: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                parts[key] = match.group(2)
            elif line.startswith('"') and key:
                parts[key] += line[1:-1]
        msgid = parts.get("msgid", "")
        if not msgid:
            continue
        if "msgctxt" in parts:
            msgid = f"{parts['msgctxt']}\x04{msgid}"
        msgstr = "".join(v for k, v in parts.items() if k.startswith("msgstr"))
        empty_form = any(k.startswith("msgstr") and not v for k, v in parts.items())
        entries.append((msgid, "" if empty_form else msgstr, fuzzy))
    return entries


def test_there_are_catalogues_for_both_languages() -> None:
    languages = {po.parts[-3] for po in CATALOGUES}
    assert {"ru", "zh_Hans"} <= languages


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_string_is_translated_and_compiled(po: Path) -> None:
    entries = _entries(po)
    untranslated = [msgid for msgid, msgstr, _ in entries if not msgstr]
    fuzzy = [msgid for msgid, _, f in entries if f]
    assert untranslated == [], f"{len(untranslated)} untranslated"
    assert fuzzy == []
    mo = po.with_suffix(".mo")
    assert mo.exists(), "run compilemessages"
    with mo.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    compiled = catalogue._catalog  # type: ignore[attr-defined]
    missing = [msgid for msgid, _, _ in entries if msgid not in compiled and (msgid, 0) not in compiled]
    assert missing == [], ".mo is older than .po: run compilemessages"


@pytest.mark.parametrize(("language", "word"), [("ru", "Пациенты"), ("zh-hans", "患者"), ("en", "Patients")])
def test_pages_switch_language(web, language, word) -> None:
    client = web("owner")
    response = client.post("/i18n/setlang/", {"language": language, "next": "/patients/"})
    assert response.status_code == 302
    page = client.get("/patients/")
    assert word in page.content.decode()
    assert f'lang="{language}"' in page.content.decode()

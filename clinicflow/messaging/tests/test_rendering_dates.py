"""An appointment's time in a message is written for the message's language in the branch's zone."""

from __future__ import annotations

from clinicflow.messaging.rendering import render, template_source

CONTEXT = {
    "service": "Botox",
    "doctor": "Dr Ivanova",
    "branch": "Moscow",
    "start_local": "2026-12-01 10:00",
    "start_utc": "2026-12-01T07:00:00+00:00",
    "timezone": "Europe/Moscow",
}


def _subject(language: str, context: dict[str, str] = CONTEXT) -> str:
    source = template_source(kind="appointment_confirmation", channel="email", language=language)
    return render(source=source, channel="email", language=language, context=context).subject


def test_russian_message_has_the_genitive_date_in_the_branch_zone() -> None:
    assert _subject("ru") == "Ваша запись на 1 декабря 2026 г., 10:00 подтверждена"


def test_chinese_and_english_dates() -> None:
    assert "2026年12月1日 10:00" in _subject("zh-hans")
    assert _subject("en") == "Your appointment on 1 December 2026, 10:00 is confirmed"


def test_another_zone_moves_the_time() -> None:
    shanghai = {**CONTEXT, "timezone": "Asia/Shanghai"}
    assert "15:00" in _subject("en", shanghai)


def test_a_context_without_a_utc_time_keeps_its_text() -> None:
    bare = {k: v for k, v in CONTEXT.items() if k != "start_utc"}
    assert _subject("en", bare) == "Your appointment on 2026-12-01 10:00 is confirmed"

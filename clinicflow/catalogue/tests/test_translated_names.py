"""Translated names of services (and the shared rules in ``core.names``): the name in the interface
language on the pages and in the API, ``name`` where there is no translation, and translations
edited through the form and the API with errors that name the field."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from clinicflow.catalogue.models import Service
from clinicflow.catalogue.tests.factories import make_service
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.names import clean_names, localized

NAMES = {"en": "Botulinum therapy, upper face", "zh-hans": "肉毒素注射（面部上三分之一）"}
RU = "Ботулинотерапия, верхняя треть лица"


@pytest.fixture
def botox(org, users) -> Service:  # type: ignore[no-untyped-def]
    return make_service(
        org,
        code="botox-face",
        name=RU,
        name_i18n=NAMES,
        category="botulinum",
        duration_minutes=30,
        room_type="treatment",
    )


def test_localized_takes_the_language_then_falls_back_to_the_name() -> None:
    assert localized(RU, NAMES, "en") == "Botulinum therapy, upper face"
    assert localized(RU, NAMES, "zh-hans") == "肉毒素注射（面部上三分之一）"
    assert localized(RU, NAMES, "zh") == "肉毒素注射（面部上三分之一）"  # a base language finds its variant
    assert localized(RU, NAMES, "ru") == RU  # no Russian translation: the name itself
    assert localized(RU, {"en": "  "}, "en") == RU  # a blank translation is none
    assert localized(RU, {}, "en") == RU


def test_clean_names_drops_blanks_and_names_the_bad_field() -> None:
    assert clean_names({"en": " Lip filler ", "ru": ""}, max_length=200) == {"en": "Lip filler"}
    with pytest.raises(ValidationFailed) as long_one:
        clean_names({"zh-hans": "长" * 201}, max_length=200)
    assert long_one.value.fields == {"name_zh_hans": ["at most 200 characters"]}
    with pytest.raises(ValidationFailed) as unknown:
        clean_names({"de": "Lippen"}, max_length=200)
    assert list(unknown.value.fields) == ["name_i18n"]


@pytest.mark.parametrize(
    ("language", "shown"),
    [("en", "Botulinum therapy, upper face"), ("ru", RU), ("zh-hans", "肉毒素注射（面部上三分之一）")],
)
def test_the_service_pages_show_the_name_in_the_interface_language(web, botox, language, shown) -> None:
    client = web("owner")
    client.cookies["cf_language"] = language
    for path in ("/catalogue/", f"/catalogue/{botox.pk}/"):
        text = client.get(path).content.decode()
        assert shown in text, path
    others = {"en": NAMES["en"], "zh-hans": NAMES["zh-hans"]}
    others.pop(language, None)
    listing = client.get("/catalogue/").content.decode()
    assert not any(name in listing for name in others.values())


def test_a_service_without_translations_shows_its_name_in_every_language(web, laser) -> None:
    client = web("owner")
    for language in ("en", "ru", "zh-hans"):
        client.cookies["cf_language"] = language
        assert "Laser resurfacing" in client.get("/catalogue/").content.decode()
        with translation.override(language):
            assert str(laser) == laser.display_name == "Laser resurfacing"


def test_the_api_keeps_name_and_adds_names_and_the_name_in_the_request_language(api, botox) -> None:
    body = api("owner").get(f"/api/v1/services/{botox.pk}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["name"] == RU
    assert body["names"] == NAMES
    assert body["display_name"] == "Botulinum therapy, upper face"
    zh = api("owner").get(f"/api/v1/services/{botox.pk}", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert zh["display_name"] == "肉毒素注射（面部上三分之一）" and zh["name"] == RU
    ru = api("owner").get("/api/v1/services", HTTP_ACCEPT_LANGUAGE="ru").json()
    assert [s["display_name"] for s in ru] == [RU]


BODY = {
    "code": "filler-lips",
    "name": "Контурная пластика губ, 1 мл",
    "category": "fillers",
    "duration_minutes": 45,
    "room_type": "treatment",
    "price": "22000.00",
}


def test_the_api_creates_a_service_with_translations(api, org, users) -> None:
    body = {**BODY, "name_en": "Lip filler, 1 ml", "name_zh_hans": "玻尿酸丰唇（1毫升）", "name_ru": ""}
    r = api("owner").post("/api/v1/services", json.dumps(body), content_type="application/json")
    assert r.status_code == 201, r.content
    assert r.json()["names"] == {"en": "Lip filler, 1 ml", "zh-hans": "玻尿酸丰唇（1毫升）"}
    assert Service.objects.for_org(org).get(code="filler-lips").name_i18n == r.json()["names"]


def test_the_api_refuses_a_bad_translation_naming_the_field(api, org, users) -> None:
    body = {**BODY, "name_en": "x" * 201}
    r = api("owner").post("/api/v1/services", json.dumps(body), content_type="application/json")
    assert r.status_code == 422
    assert r.json()["error"]["fields"] == {"name_en": ["at most 200 characters"]}
    assert not Service.objects.for_org(org).filter(code="filler-lips").exists()


def _edit_form(service: Service, **changes: str) -> dict[str, str]:
    data = {
        "name": service.name,
        "category": service.category,
        "duration_minutes": str(service.duration_minutes),
        "buffer_minutes": "0",
        "room_type": service.room_type,
        "course_sessions": "1",
        "course_interval_days": "0",
        "follow_on_codes": "",
        "is_bookable_online": "on",
        "name_en": service.name_i18n.get("en", ""),
        "name_ru": service.name_i18n.get("ru", ""),
        "name_zh_hans": service.name_i18n.get("zh-hans", ""),
    }
    return {**data, **changes}


def test_the_edit_form_shows_and_saves_the_translations(web, botox) -> None:
    client = web("owner")
    page = client.get(f"/catalogue/{botox.pk}/edit/").content.decode()
    assert 'name="name_zh_hans"' in page and NAMES["zh-hans"] in page
    r = client.post(
        f"/catalogue/{botox.pk}/edit/", _edit_form(botox, name_en="Botox, upper face", name_zh_hans="")
    )
    assert r.status_code == 302
    botox.refresh_from_db()
    assert botox.name_i18n == {"en": "Botox, upper face"}
    assert botox.name == RU


def test_the_edit_form_refuses_a_too_long_translation_on_its_field(web, botox) -> None:
    r = web("owner").post(f"/catalogue/{botox.pk}/edit/", _edit_form(botox, name_ru="д" * 201))
    assert r.status_code in (200, 422)
    form = r.context["form"]
    assert list(form.errors) == ["name_ru"]
    botox.refresh_from_db()
    assert botox.name_i18n == NAMES  # nothing changed

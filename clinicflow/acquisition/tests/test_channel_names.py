"""Translated channel names: shown in the interface language on the marketer's pages and in the
channel report, edited through the channel forms with errors that name the field."""

from __future__ import annotations

import pytest
from django.utils import translation

from clinicflow.acquisition.defaults import channel_for_code
from clinicflow.acquisition.marketing import services, spend_import
from clinicflow.acquisition.models import Channel
from clinicflow.core.errors import ValidationFailed

RU = "Контекстная реклама"
NAMES = {"en": "Search ads", "zh-hans": "搜索广告"}


@pytest.fixture
def search(org, users) -> Channel:  # type: ignore[no-untyped-def]
    return services.channel_create(
        org=org, actor=None, code="search_ads", name=RU, kind="paid", name_i18n=NAMES
    )


@pytest.mark.parametrize(("language", "shown"), [("en", "Search ads"), ("ru", RU), ("zh-hans", "搜索广告")])
def test_the_channels_page_shows_the_name_in_the_interface_language(web, search, language, shown) -> None:
    client = web("marketer")
    client.cookies["cf_language"] = language
    html = client.get("/acquisition/").content.decode()
    assert shown in html
    with_other_names = {RU, *NAMES.values()} - {shown}
    assert not any(f"<td>{name}</td>" in html for name in with_other_names)


def test_the_channel_form_saves_translations_and_keeps_the_name(web, org, search) -> None:
    client = web("marketer")
    page = client.get(f"/acquisition/channels/{search.pk}/edit/").content.decode()
    assert "搜索广告" in page and 'name="name_en"' in page
    r = client.post(
        f"/acquisition/channels/{search.pk}/edit/",
        {"name": RU, "kind": "paid", "name_en": "Paid search", "name_ru": "", "name_zh_hans": "百度推广"},
    )
    assert r.status_code == 302
    search.refresh_from_db()
    assert (search.name, search.name_i18n) == (RU, {"en": "Paid search", "zh-hans": "百度推广"})


def test_a_new_channel_takes_its_translations(web, org, users) -> None:
    r = web("marketer").post(
        "/acquisition/channels/new/",
        {"code": "referral", "name": "Рекомендации", "kind": "free", "name_en": "Referral"},
    )
    assert r.status_code == 302
    assert Channel.objects.for_org(org).get(code="referral").name_i18n == {"en": "Referral"}


def test_a_too_long_translation_is_refused_on_its_field(web, search) -> None:
    r = web("marketer").post(
        f"/acquisition/channels/{search.pk}/edit/", {"name": RU, "kind": "paid", "name_zh_hans": "长" * 101}
    )
    assert r.status_code == 422
    assert list(r.context["form"].errors) == ["name_zh_hans"]
    search.refresh_from_db()
    assert search.name_i18n == NAMES


def test_the_service_refuses_a_bad_translation_naming_the_field(org, search) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.channel_update(
            org=org, actor=None, channel=search, name=RU, kind="paid", name_i18n={"ru": "x" * 101}
        )
    assert refused.value.fields == {"name_ru": ["at most 100 characters"]}
    search.refresh_from_db()
    assert search.name_i18n == NAMES


def test_a_default_channel_is_created_with_its_name_in_every_language(org) -> None:
    direct = channel_for_code(org=org, code="direct")
    assert direct.name == "Direct / unknown"
    with translation.override("ru"):
        assert str(direct) == "Прямые обращения / неизвестно"
    with translation.override("zh-hans"):
        assert direct.display_name == "直接访问 / 未知"
    with translation.override("en"):
        assert direct.display_name == "Direct / unknown"


def test_a_spend_file_may_name_the_channel_in_any_of_its_languages(org, search) -> None:
    data = "Дата;Канал;Расход\n2025-03-01;Контекстная реклама;10\n2025-03-02;search ads;20\n2025-03-03;搜索广告;30\n"
    table = spend_import.read_table(data.encode(), "csv")
    preview = spend_import.parse(org=org, table=table, mapping={"date": 0, "channel": 1, "spend": 2})
    assert preview.errors == []
    assert [r.channel.pk for r in preview.rows] == [search.pk] * 3

"""Ad spend import through the real pages: upload → columns → preview → save."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from clinicflow.acquisition import defaults
from clinicflow.acquisition.marketing import services, spend_import, spend_uploads
from clinicflow.acquisition.models import AdSpend, Campaign
from clinicflow.core.models import AuditEvent

pytestmark = pytest.mark.django_db

CSV_RU = (
    "Дата;Канал;Кампания;Расход;Показы;Клики\n"
    "01.03.2025;search_ads;Brand;1 234,50;1000;50\n"
    "2025-03-02;Search ads;Brand;99.99;0;0\n"
    "2025-03-02;social_ads;;10;5;1\n"
)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def setup(org: Any, branch: Any) -> dict[str, Any]:
    channels = defaults.channels_ensure(org=org)
    brand = services.campaign_create(
        org=org, actor=None, channel=channels["search_ads"], name="Brand", utm_campaign="brand", branch=branch
    )
    return {"channels": channels, "brand": brand}


def upload(client: Any, name: str, data: bytes) -> Any:
    return client.post("/acquisition/spend/import/", {"file": SimpleUploadedFile(name, data)})


def map_columns(client: Any, mapping: dict[str, str] | None = None) -> Any:
    mapping = mapping or {
        "date": "0",
        "channel": "1",
        "campaign": "2",
        "spend": "3",
        "impressions": "4",
        "clicks": "5",
    }
    return client.post("/acquisition/spend/import/columns/", mapping)


def stored(org: Any) -> list[tuple[Any, ...]]:
    return list(
        AdSpend.objects.for_org(org)
        .order_by("date", "channel__code")
        .values_list("date", "channel__code", "campaign__name", "spend", "currency", "impressions", "clicks")
    )


def tmp_files() -> list[Path]:
    folder = spend_uploads.tmp_dir()
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_a_csv_in_russian_is_mapped_by_guess_previewed_and_saved_with_exact_values(web, org, setup) -> None:
    client = web("marketer")
    response = upload(client, "direct.csv", CSV_RU.encode("utf-8"))
    assert response.status_code == 302 and response["Location"] == "/acquisition/spend/import/columns/"
    page = client.get("/acquisition/spend/import/columns/")
    assert page.status_code == 200
    html = page.content.decode()
    for target, index in [
        ("date", 0),
        ("channel", 1),
        ("campaign", 2),
        ("spend", 3),
        ("impressions", 4),
        ("clicks", 5),
    ]:
        select = re.search(rf'<select name="{target}"[^>]*>(.*?)</select>', html, re.S).group(1)
        assert f'<option value="{index}" selected>' in select
    assert map_columns(client)["Location"] == "/acquisition/spend/import/preview/"
    preview = client.get("/acquisition/spend/import/preview/")
    assert preview.status_code == 200
    assert "₽1,234.50" in preview.content.decode() and "₽1,344.49" in preview.content.decode()
    assert stored(org) == []  # nothing saved by the preview
    response = client.post("/acquisition/spend/import/preview/", {"action": "save"})
    assert response.status_code == 302 and response["Location"] == "/acquisition/spend/"
    assert stored(org) == [
        (dt.date(2025, 3, 1), "search_ads", "Brand", Decimal("1234.50"), "RUB", 1000, 50),
        (dt.date(2025, 3, 2), "search_ads", "Brand", Decimal("99.99"), "RUB", 0, 0),
        (dt.date(2025, 3, 2), "social_ads", None, Decimal("10.00"), "RUB", 5, 1),
    ]
    assert AdSpend.objects.for_org(org).get(date=dt.date(2025, 3, 1)).branch_id == setup["brand"].branch_id
    assert tmp_files() == []  # the upload is deleted after the save
    assert AuditEvent.objects.filter(organization=org, object_type="ad_spend_import").count() == 1
    listing = client.get("/acquisition/spend/", {"start": "2025-03-01", "end": "2025-03-01"}).content.decode()
    assert "₽1,234.50" in listing and "99.99" not in listing


def test_cancelling_the_import_deletes_the_upload_and_saves_nothing(web, org, setup) -> None:
    client = web("marketer")
    upload(client, "direct.csv", CSV_RU.encode("utf-8"))
    map_columns(client)
    assert len(tmp_files()) == 1
    response = client.post("/acquisition/spend/import/cancel/")
    assert response.status_code == 302 and response["Location"] == "/acquisition/spend/"
    assert tmp_files() == [] and stored(org) == []
    assert client.get("/acquisition/spend/import/preview/")["Location"] == "/acquisition/spend/import/"
    assert client.get("/acquisition/spend/import/cancel/").status_code == 405


def test_an_xlsx_export_is_imported_through_the_pages(web, org, setup) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Date", "Channel", "Campaign", "Cost", "Impressions", "Clicks"])
    ws.append([dt.datetime(2025, 4, 1), "search_ads", "brand", 1500.75, 2000, 80])
    ws.append(["02.04.2025", "Social ads", None, "7,5", None, 3])
    buffer = io.BytesIO()
    wb.save(buffer)
    client = web("owner")
    assert upload(client, "ads.xlsx", buffer.getvalue()).status_code == 302
    assert map_columns(client).status_code == 302
    assert client.get("/acquisition/spend/import/preview/").status_code == 200
    assert client.post("/acquisition/spend/import/preview/", {"action": "save"}).status_code == 302
    assert stored(org) == [
        (dt.date(2025, 4, 1), "search_ads", "Brand", Decimal("1500.75"), "RUB", 2000, 80),
        (dt.date(2025, 4, 2), "social_ads", None, Decimal("7.50"), "RUB", 0, 3),
    ]


def test_a_file_with_bad_rows_saves_nothing_and_names_each_line_and_reason(web, org, setup) -> None:
    body = (
        "date,channel,campaign,spend,impressions,clicks\n"
        "2025-03-01,search_ads,Brand,100,1,1\n"
        "31.02.2025,search_ads,Brand,100,1,1\n"
        "2025-03-03,search_ads,Brand,-5,1,1\n"
        "2025-03-04,tv,,10,1,1\n"
        "2025-03-05,search_ads,Brand,abc,1,1\n"
    )
    client = web("marketer")
    upload(client, "bad.csv", body.encode())
    map_columns(client)
    response = client.post("/acquisition/spend/import/preview/", {"action": "save"})
    assert response.status_code == 422
    html = response.content.decode()
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td>(\w+)</td><td class="bad">([^<]+)</td>', html)
    assert rows == [
        ("3", "date", "bad date (use YYYY-MM-DD or DD.MM.YYYY)"),
        ("4", "spend", "negative spend"),
        ("5", "channel", "unknown channel"),
        ("6", "spend", "not a number"),
    ]
    assert "Nothing was saved" in html
    assert stored(org) == []


def test_re_importing_the_same_days_updates_instead_of_duplicating(web, org, setup) -> None:
    client = web("marketer")
    upload(client, "a.csv", CSV_RU.encode())
    map_columns(client)
    client.post("/acquisition/spend/import/preview/", {"action": "save"})
    first_ids = set(AdSpend.objects.for_org(org).values_list("pk", flat=True))
    again = CSV_RU.replace("1 234,50;1000;50", "2000;1100;60").replace(
        "social_ads;;10;5;1", "social_ads;;11,25;6;2"
    )
    upload(client, "a.csv", again.encode())
    map_columns(client)
    response = client.post("/acquisition/spend/import/preview/", {"action": "save"})
    assert response.status_code == 302
    assert set(AdSpend.objects.for_org(org).values_list("pk", flat=True)) == first_ids
    assert stored(org) == [
        (dt.date(2025, 3, 1), "search_ads", "Brand", Decimal("2000.00"), "RUB", 1100, 60),
        (dt.date(2025, 3, 2), "search_ads", "Brand", Decimal("99.99"), "RUB", 0, 0),
        (dt.date(2025, 3, 2), "social_ads", None, Decimal("11.25"), "RUB", 6, 2),
    ]


def test_missing_campaigns_of_a_known_channel_are_created_only_when_asked(web, org, setup) -> None:
    body = "date,channel,campaign,spend\n2025-03-01,search_ads,Spring <b>promo</b>,50\n2025-03-02,search_ads,Spring <b>promo</b>,60\n"
    client = web("marketer")
    upload(client, "new.csv", body.encode())
    map_columns(client, {"date": "0", "channel": "1", "campaign": "2", "spend": "3"})
    preview = client.get("/acquisition/spend/import/preview/")
    html = preview.content.decode()
    assert "Spring &lt;b&gt;promo&lt;/b&gt;" in html and "<b>promo</b>" not in html
    assert 'name="create_missing"' in html
    refused = client.post("/acquisition/spend/import/preview/", {"action": "save"})
    assert refused.status_code == 422
    assert stored(org) == [] and not Campaign.objects.for_org(org).filter(name__startswith="Spring").exists()
    saved = client.post("/acquisition/spend/import/preview/", {"action": "save", "create_missing": "1"})
    assert saved.status_code == 302
    campaign = Campaign.objects.for_org(org).get(name="Spring <b>promo</b>")
    assert campaign.channel.code == "search_ads"
    assert stored(org) == [
        (dt.date(2025, 3, 1), "search_ads", "Spring <b>promo</b>", Decimal("50.00"), "RUB", 0, 0),
        (dt.date(2025, 3, 2), "search_ads", "Spring <b>promo</b>", Decimal("60.00"), "RUB", 0, 0),
    ]


def test_the_same_day_twice_in_one_file_is_an_error(web, org, setup) -> None:
    body = "date,channel,campaign,spend\n2025-03-01,search_ads,Brand,50\n01.03.2025,search_ads,brand,60\n"
    client = web("marketer")
    upload(client, "dup.csv", body.encode())
    map_columns(client, {"date": "0", "channel": "1", "campaign": "2", "spend": "3"})
    response = client.post("/acquisition/spend/import/preview/", {"action": "save"})
    assert response.status_code == 422
    assert "the same day and campaign as line 2" in response.content.decode()
    assert stored(org) == []


def test_an_oversized_or_unknown_file_is_refused_and_nothing_is_kept(web, org, setup) -> None:
    client = web("marketer")
    big = upload(client, "big.csv", b"date,channel,spend\n" + b"x" * (5 * 1024 * 1024))
    assert big.status_code == 422 and "larger than 5 MB" in big.content.decode()
    other = upload(client, "spend.txt", b"date,channel,spend\n")
    assert other.status_code == 422 and "Upload a .csv or .xlsx file." in other.content.decode()
    broken = upload(client, "spend.xlsx", b"PK\x03\x04 not really a zip")
    assert broken.status_code == 422 and "not a readable XLSX" in broken.content.decode()
    assert tmp_files() == []


def test_the_preview_without_an_upload_in_this_session_sends_back_to_the_upload(web, org, setup) -> None:
    owner = web("owner")
    upload(owner, "a.csv", CSV_RU.encode())
    map_columns(owner)
    stranger = web("marketer")  # another session: the owner's file is not reachable
    response = stranger.post("/acquisition/spend/import/preview/", {"action": "save"})
    assert response.status_code == 302 and response["Location"] == "/acquisition/spend/import/"
    assert stored(org) == []


def test_a_stored_upload_opens_only_for_its_organisation_and_user(org, other_org, users) -> None:
    token = spend_uploads.tmp_store(
        org=org, user_id=users["marketer"].pk, data=b"a,b\n", ext="csv", filename="x.csv"
    )
    assert spend_uploads.tmp_open(org=org, user_id=users["marketer"].pk, token=token) is not None
    assert spend_uploads.tmp_open(org=other_org, user_id=users["marketer"].pk, token=token) is None
    assert spend_uploads.tmp_open(org=org, user_id=users["owner"].pk, token=token) is None
    assert spend_uploads.tmp_open(org=org, user_id=users["marketer"].pk, token=token + "x") is None


def test_uploads_older_than_a_day_are_cleaned_up(org, users) -> None:
    import os
    import time

    token = spend_uploads.tmp_store(
        org=org, user_id=users["marketer"].pk, data=b"a,b\n", ext="csv", filename="x.csv"
    )
    path = spend_uploads.tmp_open(org=org, user_id=users["marketer"].pk, token=token).path
    old = time.time() - 25 * 3600
    os.utime(path, (old, old))
    assert spend_uploads.tmp_cleanup() == 1
    assert not path.exists()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1 234,50", Decimal("1234.50")),
        ("1,234.56", Decimal("1234.56")),
        ("1.234,56", Decimal("1234.56")),
        ("0.5", Decimal("0.5")),
        (1500.75, Decimal("1500.75")),
        (12, Decimal("12")),
        ("12abc", None),
        ("", None),
        ("1e5", None),
    ],
)
def test_amounts_with_a_comma_or_a_dot_are_parsed_exactly(raw, expected) -> None:
    assert spend_import.parse_decimal(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-03-01", dt.date(2025, 3, 1)),
        ("01.03.2025", dt.date(2025, 3, 1)),
        ("1.3.2025", dt.date(2025, 3, 1)),
        ("31.02.2025", None),
        ("03/01/2025", None),
        (dt.datetime(2025, 3, 1, 0, 0), dt.date(2025, 3, 1)),
    ],
)
def test_dates_are_iso_or_day_month_year(raw, expected) -> None:
    assert spend_import.parse_date(raw) == expected


def test_the_mapping_is_guessed_from_english_and_russian_headers() -> None:
    assert spend_import.guess_mapping(["Day", "Source", "Campaign name", "Cost", "Impr.", "Clicks"]) == {
        "date": 0,
        "channel": 1,
        "campaign": 2,
        "spend": 3,
        "impressions": 4,
        "clicks": 5,
    }
    assert spend_import.guess_mapping(["Расход, ₽", "Дата", "Кампания"]) == {
        "date": 1,
        "channel": None,
        "campaign": 2,
        "spend": 0,
        "impressions": None,
        "clicks": None,
    }


def test_spend_in_another_currency_than_the_organisations_is_refused_and_nothing_is_stored(
    org, setup
) -> None:
    from clinicflow.core.errors import ValidationFailed
    from clinicflow.core.money import Money

    row = services.SpendRow(
        line=2,
        date=dt.date(2026, 3, 1),
        channel=setup["channels"]["search_ads"],
        campaign=setup["brand"],
        spend=Money.of("1500.00", "EUR"),  # the organisation keeps its books in RUB
    )
    with pytest.raises(ValidationFailed) as refused:
        services.ad_spend_import(org=org, actor=None, rows=[row])
    assert refused.value.fields == {"spend": ["line 2: must be in RUB"]}
    assert stored(org) == []

    services.ad_spend_import(
        org=org, actor=None, rows=[services.SpendRow(**{**row.__dict__, "spend": Money.of("1500", "RUB")})]
    )
    assert [(r[3], r[4]) for r in stored(org)] == [(Decimal("1500.00"), "RUB")]

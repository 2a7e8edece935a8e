"""The marketer's pages: role matrix, other organisations' ids, numbers, integrations, dead letters."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from clinicflow.acquisition import defaults
from clinicflow.acquisition.ingestion import dead_letters
from clinicflow.acquisition.marketing import services
from clinicflow.acquisition.models import (
    Call,
    Campaign,
    Channel,
    Integration,
    TrackingNumber,
    TrackingSettings,
    WebhookEvent,
    WebhookStatus,
    hash_secret,
)
from clinicflow.acquisition.tests.conftest import load
from clinicflow.acquisition.tracking import services as tracking_services

pytestmark = pytest.mark.django_db

VIEW_PAGES = ["/acquisition/", "/acquisition/spend/"]
MANAGE_PAGES = [
    "/acquisition/channels/new/",
    "/acquisition/campaigns/new/",
    "/acquisition/spend/import/",
    "/acquisition/numbers/",
]
OWNER_PAGES = ["/acquisition/integrations/", "/acquisition/integrations/dead-letters/"]
XSS = "<script>alert(1)</script>"


@pytest.fixture
def data(org: Any, branch: Any, make_integration: Any) -> dict[str, Any]:
    channels = defaults.channels_ensure(org=org)
    campaign = services.campaign_create(
        org=org,
        actor=None,
        channel=channels["offline"],
        name="Metro posters " + XSS,
        utm_source="metro",
        utm_medium="offline",
        utm_campaign="metro_2025",
        branch=branch,
    )
    number = tracking_services.tracking_number_add(
        org=org, actor=None, number="+7 495 100-00-02", pool="static", branch=branch, campaign=campaign
    )
    integration, _secret = make_integration("generic")
    dead = dead_letters.dead_letter_store(
        integration=integration,
        http_status=422,
        error="caller: is missing",
        content_type="application/json",
        headers={"Content-Type": "application/json"},
        body=json.dumps({**load("generic", "g2_missed.json"), "note": XSS}).encode(),
        limit=256 * 1024,
    )
    return {
        "channel": channels["offline"],
        "campaign": campaign,
        "number": number,
        "integration": integration,
        "dead": dead,
    }


@pytest.mark.parametrize("persona", ["owner", "manager", "marketer", "frontdesk", "doctor"])
def test_each_role_sees_exactly_the_pages_its_permissions_allow(web, data, persona) -> None:
    client = web(persona)
    can_view = persona in ("owner", "manager", "marketer")
    can_manage = persona in ("owner", "marketer")
    for url in VIEW_PAGES:
        assert client.get(url).status_code == (200 if can_view else 403), url
    for url in MANAGE_PAGES:
        assert client.get(url).status_code == (200 if can_manage else 403), url
    for url in OWNER_PAGES:
        assert client.get(url).status_code == (200 if persona == "owner" else 403), url
    dead_url = f"/acquisition/integrations/dead-letters/{data['dead'].pk}/"
    assert client.get(dead_url).status_code == (200 if persona == "owner" else 403)


def test_the_channels_page_lists_campaigns_with_utm_tags_escaped_and_links_the_sub_pages(web, data) -> None:
    html = web("marketer").get("/acquisition/").content.decode()
    assert "Metro posters &lt;script&gt;alert(1)&lt;/script&gt;" in html and XSS not in html
    assert "metro_2025" in html and "Offline ads" in html
    for url in ["/acquisition/spend/", "/acquisition/spend/import/", "/acquisition/numbers/"]:
        assert f'href="{url}"' in html
    assert 'href="/acquisition/integrations/"' not in html  # the marketer cannot open it
    assert 'href="/acquisition/integrations/"' in web("owner").get("/acquisition/").content.decode()


def test_another_organisations_ids_answer_404_and_change_nothing(web, data) -> None:
    client = web("outsider")
    d = data
    gets = [
        f"/acquisition/channels/{d['channel'].pk}/edit/",
        f"/acquisition/campaigns/{d['campaign'].pk}/edit/",
        f"/acquisition/integrations/dead-letters/{d['dead'].pk}/",
    ]
    posts = [
        (f"/acquisition/channels/{d['channel'].pk}/edit/", {"name": "Hacked", "kind": "paid"}),
        (
            f"/acquisition/campaigns/{d['campaign'].pk}/edit/",
            {"channel": str(d["channel"].pk), "name": "Hacked", "is_active": "on"},
        ),
        (f"/acquisition/numbers/{d['number'].pk}/active/", {"active": "0"}),
        (f"/acquisition/integrations/{d['integration'].pk}/disable/", {}),
        (f"/acquisition/integrations/dead-letters/{d['dead'].pk}/replay/", {}),
        (f"/acquisition/integrations/dead-letters/{d['dead'].pk}/discard/", {}),
    ]
    for url in gets:
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"Metro" not in response.content and b"caller: is missing" not in response.content
    for url, body in posts:
        response = client.post(url, body)
        assert response.status_code == 404, url
        assert b"Metro" not in response.content
    assert Channel.objects.get(pk=d["channel"].pk).name == "Offline ads"
    assert Campaign.objects.get(pk=d["campaign"].pk).name.startswith("Metro posters")
    assert TrackingNumber.objects.get(pk=d["number"].pk).is_active is True
    assert Integration.objects.get(pk=d["integration"].pk).is_active is True
    assert WebhookEvent.objects.get(pk=d["dead"].pk).status == WebhookStatus.DEAD
    assert Call.objects.count() == 0
    assert client.get("/acquisition/campaigns/not-a-uuid/edit/").status_code == 404


def test_mutating_routes_refuse_get(web, data) -> None:
    client = web("owner")
    for url in [
        f"/acquisition/numbers/{data['number'].pk}/active/",
        f"/acquisition/integrations/{data['integration'].pk}/disable/",
        f"/acquisition/integrations/dead-letters/{data['dead'].pk}/replay/",
        f"/acquisition/integrations/dead-letters/{data['dead'].pk}/discard/",
        "/acquisition/integrations/tracking/",
    ]:
        assert client.get(url).status_code == 405, url
    assert TrackingNumber.objects.get(pk=data["number"].pk).is_active is True


def test_a_post_without_the_csrf_token_is_refused(users, data) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["owner"], backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(f"/acquisition/integrations/dead-letters/{data['dead'].pk}/replay/")
    assert response.status_code == 403
    assert WebhookEvent.objects.get(pk=data["dead"].pk).status == WebhookStatus.DEAD


def test_channel_and_campaign_forms_create_and_edit(web, org, branch, data) -> None:
    client = web("marketer")
    taken = client.post("/acquisition/channels/new/", {"code": "offline", "name": "Twice", "kind": "paid"})
    assert taken.status_code == 422 and not Channel.objects.for_org(org).filter(name="Twice").exists()
    Channel.objects.for_org(org).filter(code="aggregator").delete()
    response = client.post(
        "/acquisition/channels/new/", {"code": "aggregator", "name": "ProDoctorov", "kind": "paid"}
    )
    assert response.status_code == 302
    assert Channel.objects.for_org(org).get(code="aggregator").name == "ProDoctorov"
    response = client.post(
        "/acquisition/campaigns/new/",
        {
            "channel": str(data["channel"].pk),
            "name": "Radio spring",
            "utm_source": "radio",
            "utm_medium": "offline",
            "utm_campaign": "radio_spring",
            "starts_on": "2025-03-01",
            "ends_on": "2025-02-01",
        },
    )
    assert response.status_code == 422 and b"is before the start" in response.content
    assert not Campaign.objects.for_org(org).filter(name="Radio spring").exists()
    response = client.post(
        f"/acquisition/campaigns/{data['campaign'].pk}/edit/",
        {
            "channel": str(data["channel"].pk),
            "name": "Metro posters",
            "utm_source": "metro",
            "utm_medium": "offline",
            "utm_campaign": "metro_2025",
            "branch": str(branch.pk),
            "starts_on": "2025-03-01",
            "ends_on": "2025-05-31",
        },
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get(pk=data["campaign"].pk)
    assert (campaign.name, str(campaign.starts_on), str(campaign.ends_on), campaign.is_active) == (
        "Metro posters",
        "2025-03-01",
        "2025-05-31",
        False,
    )
    assert (
        client.post(
            f"/acquisition/channels/{data['channel'].pk}/edit/", {"name": "Outdoor", "kind": "offline"}
        ).status_code
        == 302
    )
    assert Channel.objects.get(pk=data["channel"].pk).name == "Outdoor"


def test_a_tracking_number_in_any_format_is_stored_as_e164(web, org, branch) -> None:
    response = web("marketer").post(
        "/acquisition/numbers/", {"number": "8 (495) 100-00-01", "pool": "dynamic", "branch": str(branch.pk)}
    )
    assert response.status_code == 302
    row = TrackingNumber.objects.for_org(org).get()
    assert (row.e164, row.pool, row.branch_id, row.is_active) == ("+74951000001", "dynamic", branch.pk, True)


def test_a_garbage_tracking_number_is_refused_naming_the_field_and_nothing_is_stored(
    web, org, branch
) -> None:
    response = web("marketer").post(
        "/acquisition/numbers/", {"number": "call us!", "pool": "dynamic", "branch": str(branch.pk)}
    )
    assert response.status_code == 422
    html = response.content.decode()
    errors = re.search(r'<label for="id_number">.*?<ul class="errorlist"[^>]*>(.*?)</ul>', html, re.S)
    assert errors is not None and "is not a phone number" in errors.group(1)
    assert TrackingNumber.objects.for_org(org).count() == 0


def test_the_numbers_page_shows_which_visit_holds_each_dynamic_number_and_deactivates(
    web, org, branch
) -> None:
    number = tracking_services.tracking_number_add(
        org=org, actor=None, number="+74951000003", pool="dynamic", branch=branch
    )
    tracking_services.tracking_number_add(
        org=org, actor=None, number="+74951000004", pool="dynamic", branch=branch
    )
    session = tracking_services.session_touch(
        org=org,
        data=tracking_services.SessionInput(
            client_id="visitor-123456789", utm_source="yandex", utm_medium="cpc", branch="moscow"
        ),
    )
    assert session.number_id is not None
    client = web("marketer")
    html = client.get("/acquisition/numbers/").content.decode()
    held = TrackingNumber.objects.get(pk=session.number_id).e164
    row = re.search(rf"<tr><td>{re.escape(held)}</td>.*?</tr>", html, re.S).group(0)
    assert "yandex / cpc" in row
    free = "+74951000004" if held == "+74951000003" else "+74951000003"
    assert "free" in re.search(rf"<tr><td>{re.escape(free)}</td>.*?</tr>", html, re.S).group(0)
    response = client.post(f"/acquisition/numbers/{number.pk}/active/", {"active": "0"})
    assert response.status_code == 302
    assert TrackingNumber.objects.get(pk=number.pk).is_active is False


def test_creating_an_integration_shows_its_webhook_url_once(web, org) -> None:
    client = web("owner")
    response = client.post(
        "/acquisition/integrations/", {"provider": "callrail", "name": "CallRail", "signing_key": "sk_1"}
    )
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    match = re.search(r"http://testserver/hooks/calls/callrail/([A-Za-z0-9_-]+)", response.content.decode())
    assert match is not None
    integration = Integration.objects.for_org(org).get(provider="callrail")
    assert integration.secret_hash == hash_secret(match.group(1)) and integration.signing_key == "sk_1"
    again = client.get("/acquisition/integrations/").content.decode()
    assert match.group(1) not in again and integration.secret_prefix in again
    assert client.post(f"/acquisition/integrations/{integration.pk}/disable/").status_code == 302
    assert Integration.objects.get(pk=integration.pk).is_active is False


def test_tracking_settings_are_saved_and_the_snippet_carries_the_public_key(web, org, branch) -> None:
    client = web("owner")
    html = client.get("/acquisition/integrations/").content.decode()
    cfg = TrackingSettings.objects.for_org(org).get()
    assert (
        f"&lt;script src=&quot;http://testserver/t/cf.js&quot; data-key=&quot;{cfg.public_key}&quot; "
        f"data-branch=&quot;moscow&quot; async&gt;&lt;/script&gt;"
    ) in html
    bad = client.post(
        "/acquisition/integrations/tracking/",
        {
            "hold_minutes": "30",
            "callback_minutes": "10",
            "gross_margin": "0.45",
            "allowed_origins": "ftp://x",
        },
    )
    assert bad.status_code == 422 and b"is not an http(s) origin" in bad.content
    assert TrackingSettings.objects.for_org(org).get().hold_minutes == 20
    ok = client.post(
        "/acquisition/integrations/tracking/",
        {
            "hold_minutes": "30",
            "callback_minutes": "10",
            "gross_margin": "0.45",
            "allowed_origins": "https://clinic.example",
            "default_branch": str(branch.pk),
        },
    )
    assert ok.status_code == 302
    cfg.refresh_from_db()
    assert (
        cfg.hold_minutes,
        cfg.callback_minutes,
        str(cfg.gross_margin),
        cfg.allowed_origins,
        cfg.default_branch_id,
    ) == (
        30,
        10,
        "0.4500",
        "https://clinic.example",
        branch.pk,
    )


def test_dead_letters_list_without_the_body_and_show_it_escaped_in_the_detail(web, data) -> None:
    client = web("owner")
    listing = client.get("/acquisition/integrations/dead-letters/").content.decode()
    assert "caller: is missing" in listing and "+79161234567" not in listing and "alert(1)" not in listing
    detail = client.get(f"/acquisition/integrations/dead-letters/{data['dead'].pk}/")
    html = detail.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and XSS not in html
    assert detail["Cache-Control"] == "no-store"


def test_a_dead_letter_is_replayed_through_the_page(web, org, data) -> None:
    response = web("owner").post(f"/acquisition/integrations/dead-letters/{data['dead'].pk}/replay/")
    assert response.status_code == 302 and response["Location"] == "/acquisition/integrations/dead-letters/"
    event = WebhookEvent.objects.get(pk=data["dead"].pk)
    call = Call.objects.for_org(org).get()
    assert event.status == WebhookStatus.REPLAYED and event.call_id == call.pk
    assert call.provider_call_id == load("generic", "g2_missed.json")["call_id"]
    again = web("owner").post(f"/acquisition/integrations/dead-letters/{data['dead'].pk}/replay/")
    assert again.status_code == 302 and Call.objects.for_org(org).count() == 1


def test_a_dead_letter_is_discarded_through_the_page(web, data) -> None:
    response = web("owner").post(f"/acquisition/integrations/dead-letters/{data['dead'].pk}/discard/")
    assert response.status_code == 302
    assert WebhookEvent.objects.get(pk=data["dead"].pk).status == WebhookStatus.DISCARDED
    listing = web("owner").get("/acquisition/integrations/dead-letters/").content.decode()
    assert "caller: is missing" not in listing


def test_list_pages_query_counts_do_not_grow_with_rows(web, org, branch, data) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = web("owner")
    urls = [
        "/acquisition/",
        "/acquisition/spend/",
        "/acquisition/numbers/",
        "/acquisition/integrations/dead-letters/",
    ]
    for url in urls:
        client.get(url)  # first visits create the tracking settings row
    before = {}
    for url in urls:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        before[url] = len(ctx)
    for i in range(5):
        camp = services.campaign_create(
            org=org, actor=None, channel=data["channel"], name=f"C{i}", branch=branch
        )
        tracking_services.tracking_number_add(
            org=org, actor=None, number=f"+7495100001{i}", pool="static", campaign=camp
        )
        tracking_services.tracking_number_add(
            org=org, actor=None, number=f"+7495100002{i}", pool="dynamic", branch=branch
        )
        dead_letters.dead_letter_store(
            integration=data["integration"],
            http_status=400,
            error="bad",
            content_type="",
            headers={},
            body=b"x",
            limit=10,
        )
    for url in urls:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        assert len(ctx) == before[url], url

"""Front-desk pages: call log (branch time zone, filters, live feed), callbacks, call detail (tags,
checklist score, administrator, review list), weekly review list, branch checklist editor."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinicflow.acquisition import ingestion
from clinicflow.acquisition.frontdesk import selectors, services
from clinicflow.acquisition.frontdesk import views as frontdesk_views
from clinicflow.acquisition.integrations import services as integration_services
from clinicflow.acquisition.models import (
    Call,
    CallbackTask,
    CallChecklist,
    CallChecklistItem,
    CallScore,
    CallTagging,
    Integration,
    ReviewListEntry,
)
from clinicflow.acquisition.providers import CallEvent
from clinicflow.core.models import AuditEvent
from clinicflow.patients.tests.factories import make_patient

pytestmark = pytest.mark.django_db

LOG = reverse("acquisition:call_log")
FEED = reverse("acquisition:call_log_feed")
REVIEW = reverse("acquisition:review")
_ids = itertools.count(1)


@pytest.fixture
def integration(org: Any, branch: Any) -> Integration:
    return integration_services.integration_create(org=org, actor=None, provider="generic", branch=branch)[0]


def ingest(
    org: Any,
    integration: Any,
    *,
    started: dt.datetime | None = None,
    status: str = "completed",
    caller: str = "+79161234567",
    duration: int | None = 95,
    recording_url: str = "https://rec.example/1.mp3",
) -> Call:
    cid = f"fd-{next(_ids)}"
    event = CallEvent(
        provider_call_id=cid,
        status=status,
        started_at=started or timezone.now() - dt.timedelta(minutes=5),
        caller=caller,
        called="+74950000000",
        duration=duration if status != "missed" else None,
        recording_url=recording_url if status != "missed" else "",
        utm_source="yandex",
        utm_medium="cpc",
        utm_campaign="implants-spring",
    )
    payload = {"call_id": cid, "status": status, "note": "<script>alert(1)</script>"}
    return ingestion.call_ingest(
        org=org, integration=integration, provider="generic", event=event, payload=payload
    ).call


def log_url(branch: Any, **params: str) -> str:
    return f"{LOG}?{urlencode({'branch': branch.pk, **params})}"


# --- access ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("manager", 200), ("frontdesk", 200), ("marketer", 403), ("doctor", 403)],
)
def test_call_log_role_matrix(web: Any, branch: Any, persona: str, status: int) -> None:
    assert web(persona).get(log_url(branch)).status_code == status


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("manager", 200), ("frontdesk", 403), ("marketer", 403), ("doctor", 403)],
)
def test_review_list_is_for_owner_and_manager_only(web: Any, org: Any, persona: str, status: int) -> None:
    assert web(persona).get(REVIEW).status_code == status


@pytest.mark.parametrize(("persona", "status"), [("manager", 200), ("frontdesk", 403), ("marketer", 403)])
def test_checklist_editor_needs_calls_review(web: Any, branch: Any, persona: str, status: int) -> None:
    assert web(persona).get(reverse("acquisition:checklist", args=[branch.pk])).status_code == status


def test_anonymous_is_sent_to_login(branch: Any) -> None:
    response = Client().get(log_url(branch))
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_outsider_gets_404_on_every_id_route_and_sees_nothing(
    web: Any, org: Any, branch: Any, integration: Any, users: Any
) -> None:
    patient = make_patient(org, last_name="Secretova", phones=["+79161234567"])
    call = ingest(org, integration, status="missed")
    entry = services.review_add(org=org, actor=None, call=call, verdict="bad", note="rude-note")
    task = CallbackTask.objects.for_org(org).get(call=call)
    outsider = web("outsider")
    gets = [
        log_url(branch),
        f"{FEED}?{urlencode({'branch': branch.pk, 'cursor': selectors.FeedCursor(timezone.now() - dt.timedelta(days=1), call.pk).encode()})}",
        reverse("acquisition:call_detail", args=[call.pk]),
        reverse("acquisition:checklist", args=[branch.pk]),
    ]
    posts = [
        (reverse("acquisition:call_tag", args=[call.pk]), {"tags": ["spam"]}),
        (reverse("acquisition:call_score", args=[call.pk]), {"passed": ["greeting"]}),
        (reverse("acquisition:call_assign", args=[call.pk]), {"administrator": ""}),
        (reverse("acquisition:review_add", args=[call.pk]), {"verdict": "good"}),
        (reverse("acquisition:review_remove", args=[entry.pk]), {}),
        (reverse("acquisition:callback_done", args=[task.pk]), {}),
        (reverse("acquisition:checklist", args=[branch.pk]), {"action": "add", "label": "X"}),
        (reverse("acquisition:checklist_remove", args=[branch.pk]), {"item": "greeting"}),
        (reverse("acquisition:checklist_move", args=[branch.pk]), {"item": "greeting", "direction": "up"}),
    ]
    for url in gets:
        response = outsider.get(url)
        assert response.status_code == 404, url
        body = response.content.decode()
        assert "Secretova" not in body and "+7 916" not in body and "rude-note" not in body
    for url, data in posts:
        assert outsider.post(url, data).status_code == 404, url
    call.refresh_from_db()
    assert (call.administrator_id, call.score) == (None, None)
    assert not CallTagging.objects.for_org(org).exists()
    assert ReviewListEntry.objects.for_org(org).get().verdict == "bad"
    assert CallbackTask.objects.for_org(org).get().done_at is None
    assert not CallChecklist.objects.for_org(org).exists()
    assert patient.pk == call.patient_id


def test_another_orgs_branch_in_the_call_log_is_404(web: Any, org: Any, other_branch: Any) -> None:
    assert web("frontdesk").get(log_url(other_branch)).status_code == 404
    assert web("frontdesk").get(f"{LOG}?branch=not-a-uuid").status_code == 404


def test_mutations_are_post_only_and_need_csrf(web: Any, users: Any, org: Any, integration: Any) -> None:
    call = ingest(org, integration)
    url = reverse("acquisition:call_tag", args=[call.pk])
    assert web("frontdesk").get(url).status_code == 405
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["frontdesk"], backend="django.contrib.auth.backends.ModelBackend")
    assert client.post(url, {"tags": ["spam"]}).status_code == 403
    assert not CallTagging.objects.for_org(org).exists()


# --- call log ------------------------------------------------------------------------------------------


def test_times_are_shown_in_the_branch_time_zone(web: Any, org: Any, branch: Any, integration: Any) -> None:
    ingest(org, integration, started=dt.datetime(2025, 3, 4, 7, 30, tzinfo=dt.UTC))
    body = web("frontdesk").get(log_url(branch, date="2025-03-04")).content.decode()
    assert '<time datetime="2025-03-04T10:30:00+03:00">10:30</time>' in body
    assert ">07:30<" not in body


def test_call_log_row_shows_attribution_patient_status_and_new_lead(
    web: Any, org: Any, branch: Any, integration: Any
) -> None:
    patient = make_patient(org, last_name="Petrova", phones=["+79160000001"])
    known = ingest(org, integration, caller="+79160000001", duration=125)
    unknown = ingest(org, integration, caller="+79160000002", status="missed")
    body = web("frontdesk").get(log_url(branch)).content.decode()
    assert f'href="/patients/{patient.pk}/"' in body
    assert "Petrova" in body
    assert "/patients/new/?phone=%2B79160000002" in body
    assert "yandex / cpc" in body and "implants-spring" in body
    assert "2:05" in body
    assert body.count('<span class="badge">unique</span>') == 2
    assert f'data-call-id="{known.pk}"' in body and f'data-call-id="{unknown.pk}"' in body


def test_call_log_filters_by_status_unique_and_tag(
    web: Any, org: Any, branch: Any, integration: Any, users: Any
) -> None:
    first = ingest(org, integration, caller="+79160000003", started=timezone.now() - dt.timedelta(hours=2))
    repeat = ingest(org, integration, caller="+79160000003", started=timezone.now() - dt.timedelta(hours=1))
    missed = ingest(org, integration, caller="+79160000004", status="missed")
    services.call_tag_set(org=org, actor=users["frontdesk"], call=repeat, tags=["booked"])
    client = web("frontdesk")

    def shown(**params: str) -> set[Any]:
        body = client.get(log_url(branch, **params)).content.decode()
        return {c.pk for c in (first, repeat, missed) if f'data-call-id="{c.pk}"' in body}

    assert shown() == {first.pk, repeat.pk, missed.pk}
    assert shown(status="missed") == {missed.pk}
    assert shown(status="answered") == {first.pk, repeat.pk}
    assert shown(unique="on") == {first.pk, missed.pk}
    assert shown(tag="booked") == {repeat.pk}


def test_call_log_shows_only_the_chosen_branch(
    web: Any, org: Any, branch: Any, branch2: Any, integration: Any
) -> None:
    other = integration_services.integration_create(org=org, actor=None, provider="generic", branch=branch2)[
        0
    ]
    here = ingest(org, integration)
    there = ingest(org, other)
    body = web("frontdesk").get(log_url(branch)).content.decode()
    assert f'data-call-id="{here.pk}"' in body
    assert f'data-call-id="{there.pk}"' not in body


def test_call_log_pages(web: Any, org: Any, branch: Any, integration: Any, settings: Any) -> None:
    calls = [ingest(org, integration, started=timezone.now() - dt.timedelta(minutes=i)) for i in range(1, 4)]
    old = frontdesk_views.PAGE_SIZE
    frontdesk_views.PAGE_SIZE = 2
    try:
        page2 = web("frontdesk").get(log_url(branch, page="2")).content.decode()
    finally:
        frontdesk_views.PAGE_SIZE = old
    assert f'data-call-id="{calls[2].pk}"' in page2
    assert f'data-call-id="{calls[0].pk}"' not in page2
    assert 'data-live="1"' not in page2  # only the first page is live


def test_call_log_query_count_does_not_grow_with_calls(
    web: Any, org: Any, branch: Any, integration: Any, users: Any
) -> None:
    client = web("frontdesk")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(log_url(branch)).status_code == 200
        return len(ctx.captured_queries)

    p = make_patient(org, phones=["+79160000010"])
    call = ingest(org, integration, caller="+79160000010")
    services.call_tag_set(org=org, actor=None, call=call, tags=["booked"])
    ingest(org, integration, caller="+79160000011", status="missed")
    few = count()
    for i in range(12):
        c = ingest(org, integration, caller=f"+7916000010{i % 10}", status="missed" if i % 3 else "completed")
        services.call_tag_set(org=org, actor=None, call=c, tags=["booked", "spam"])
        services.call_assign_administrator(org=org, actor=None, call=c, administrator=users["frontdesk"])
    assert p.pk
    many = count()
    assert many == few
    assert many <= 20


def test_the_log_page_loads_its_script_and_no_inline_script(web: Any, branch: Any) -> None:
    body = web("frontdesk").get(log_url(branch)).content.decode()
    assert '<script src="/static/acquisition/call_log.js"' in body
    assert "<script>" not in body


# --- live feed -------------------------------------------------------------------------------------------


def test_feed_returns_only_calls_after_the_cursor_for_that_branch(
    web: Any, org: Any, branch: Any, branch2: Any, integration: Any, other_org: Any, other_branch: Any
) -> None:
    make_patient(org, last_name="Feedova", phones=["+79160000020"])
    before = ingest(org, integration)
    body = web("frontdesk").get(log_url(branch)).content.decode()
    cursor = selectors.call_feed_cursor(org=org, branch=branch).encode()
    assert f'data-cursor="{cursor}"' in body
    other_branch_integration = integration_services.integration_create(
        org=org, actor=None, provider="generic", branch=branch2
    )[0]
    foreign = integration_services.integration_create(
        org=other_org, actor=None, provider="generic", branch=other_branch
    )[0]
    new = ingest(org, integration, caller="+79160000020")
    ingest(org, other_branch_integration)
    ingest(other_org, foreign)
    response = web("frontdesk").get(f"{FEED}?{urlencode({'branch': branch.pk, 'cursor': cursor})}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    data = response.json()
    assert [c["id"] for c in data["calls"]] == [str(new.pk)]
    row = data["calls"][0]
    assert row["patient"]["name"].startswith("Feedova")
    assert set(row) == {
        "id", "url", "time", "date", "iso", "caller", "patient", "new_lead_url", "number", "source",
        "campaign", "status", "status_label", "missed", "duration", "administrator", "unique", "tags",
        "score",
    }  # fmt: skip
    assert str(before.pk) not in response.content.decode()
    again = web("frontdesk").get(f"{FEED}?{urlencode({'branch': branch.pk, 'cursor': data['cursor']})}")
    assert again.json()["calls"] == []


def test_feed_rejects_a_bad_cursor_and_needs_calls_view(web: Any, branch: Any) -> None:
    assert web("frontdesk").get(f"{FEED}?branch={branch.pk}&cursor=nonsense").status_code == 422
    cursor = selectors.FeedCursor(timezone.now(), Call().pk).encode()
    assert web("marketer").get(f"{FEED}?branch={branch.pk}&cursor={cursor}").status_code == 403


# --- callbacks -------------------------------------------------------------------------------------------


def test_overdue_callback_is_highlighted_and_can_be_marked_done(
    web: Any, org: Any, branch: Any, integration: Any, users: Any
) -> None:
    overdue = ingest(
        org,
        integration,
        caller="+79160000030",
        status="missed",
        started=timezone.now() - dt.timedelta(hours=1),
    )
    fresh = ingest(org, integration, caller="+79160000031", status="missed", started=timezone.now())
    late = CallbackTask.objects.for_org(org).get(call=overdue)
    on_time = CallbackTask.objects.for_org(org).get(call=fresh)
    body = web("frontdesk").get(log_url(branch)).content.decode()
    assert f'<tr data-callback-id="{late.pk}" class="bad overdue">' in body
    assert f'<tr data-callback-id="{on_time.pk}">' in body
    due = timezone.localtime(late.due_at, branch.tz).strftime("%H:%M")
    assert f">{due}</time>" in body
    response = web("frontdesk").post(
        reverse("acquisition:callback_done", args=[late.pk]), {"outcome": "booked for Friday"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{LOG}?branch={branch.pk}"
    late.refresh_from_db()
    assert late.done_at is not None
    assert (late.outcome, late.assigned_to_id) == ("booked for Friday", users["frontdesk"].pk)
    body = web("frontdesk").get(log_url(branch)).content.decode()
    assert f'data-callback-id="{late.pk}"' not in body
    assert web("marketer").post(reverse("acquisition:callback_done", args=[on_time.pk])).status_code == 403
    on_time.refresh_from_db()
    assert on_time.done_at is None


# --- call detail -----------------------------------------------------------------------------------------


def test_call_detail_shows_attribution_escaped_payload_and_audits_a_matched_patient(
    web: Any, org: Any, branch: Any, integration: Any, users: Any
) -> None:
    make_patient(org, phones=["+79160000040"])
    call = ingest(
        org, integration, caller="+79160000040", started=dt.datetime(2025, 3, 4, 7, 30, tzinfo=dt.UTC)
    )
    before = AuditEvent.objects.filter(organization=org, object_type="call", action="view").count()
    body = web("frontdesk").get(reverse("acquisition:call_detail", args=[call.pk])).content.decode()
    assert "4 March 10:30" in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert(1)" not in body
    assert '<details id="payload">' in body
    assert 'href="https://rec.example/1.mp3"' in body
    assert "implants-spring" in body
    views = AuditEvent.objects.filter(organization=org, object_type="call", action="view")
    assert views.count() == before + 1
    event = views.order_by("-seq").first()
    assert event is not None
    assert (event.object_id, event.actor_id) == (str(call.pk), users["frontdesk"].pk)


def test_call_without_a_patient_is_not_audited_as_a_view(web: Any, org: Any, integration: Any) -> None:
    call = ingest(org, integration, caller="+79160000041")
    assert web("frontdesk").get(reverse("acquisition:call_detail", args=[call.pk])).status_code == 200
    assert not AuditEvent.objects.filter(organization=org, object_type="call", action="view").exists()


def test_tagging_stores_exactly_the_checked_tags(web: Any, org: Any, integration: Any, users: Any) -> None:
    call = ingest(org, integration)
    url = reverse("acquisition:call_tag", args=[call.pk])
    assert web("frontdesk").post(url, {"tags": ["booked", "price_enquiry"]}).status_code == 302
    rows = CallTagging.objects.for_org(org).filter(call=call).order_by("tag")
    assert [(r.tag, r.tagged_by_id) for r in rows] == [
        ("booked", users["frontdesk"].pk),
        ("price_enquiry", users["frontdesk"].pk),
    ]
    web("frontdesk").post(url, {"tags": ["spam"]})
    assert list(CallTagging.objects.for_org(org).filter(call=call).values_list("tag", flat=True)) == ["spam"]
    web("frontdesk").post(url, {"tags": ["nonsense"]})
    assert list(CallTagging.objects.for_org(org).filter(call=call).values_list("tag", flat=True)) == ["spam"]


def test_scoring_creates_the_branch_checklist_and_stores_exact_rows(
    web: Any, org: Any, branch: Any, integration: Any, users: Any
) -> None:
    call = ingest(org, integration)
    page = web("frontdesk").get(reverse("acquisition:call_detail", args=[call.pk])).content.decode()
    assert 'name="passed" value="greeting"' in page
    assert not CallChecklist.objects.for_org(org).exists()  # a GET writes nothing
    response = web("frontdesk").post(
        reverse("acquisition:call_score", args=[call.pk]), {"passed": ["greeting", "offers_slot"]}
    )
    assert response.status_code == 302
    checklist = CallChecklist.objects.for_org(org).get()
    assert checklist.branch_id == branch.pk
    scores = {
        s.item.code: (s.passed, s.scored_by_id)
        for s in CallScore.objects.for_org(org).filter(call=call).select_related("item")
    }
    fd = users["frontdesk"].pk
    assert scores == {
        "greeting": (True, fd),
        "services_prices": (False, fd),
        "offers_slot": (True, fd),
        "books": (False, fd),
        "contact": (False, fd),
    }
    call.refresh_from_db()
    assert call.score == Decimal("40.0")
    web("frontdesk").post(reverse("acquisition:call_score", args=[call.pk]), {"passed": ["unknown-item"]})
    call.refresh_from_db()
    assert call.score == Decimal("40.0")
    assert CallChecklist.objects.for_org(org).count() == 1


def test_assigning_an_administrator(web: Any, org: Any, integration: Any, users: Any) -> None:
    call = ingest(org, integration)
    url = reverse("acquisition:call_assign", args=[call.pk])
    web("frontdesk").post(url, {"administrator": str(users["manager"].pk)})
    call.refresh_from_db()
    assert call.administrator_id == users["manager"].pk
    web("frontdesk").post(url, {"administrator": str(users["marketer"].pk)})  # cannot handle calls
    web("frontdesk").post(url, {"administrator": str(users["outsider"].pk)})
    call.refresh_from_db()
    assert call.administrator_id == users["manager"].pk


def test_review_list_add_show_and_remove(web: Any, org: Any, branch: Any, integration: Any) -> None:
    good = ingest(org, integration, started=dt.datetime(2025, 3, 4, 7, 30, tzinfo=dt.UTC))
    bad = ingest(
        org, integration, caller="+79160000050", started=dt.datetime(2025, 3, 5, 9, 0, tzinfo=dt.UTC)
    )
    manager = web("manager")
    assert (
        web("frontdesk")
        .post(reverse("acquisition:review_add", args=[good.pk]), {"verdict": "good"})
        .status_code
        == 403
    )
    manager.post(
        reverse("acquisition:review_add", args=[good.pk]), {"verdict": "good", "note": "textbook greeting"}
    )
    manager.post(
        reverse("acquisition:review_add", args=[bad.pk]), {"verdict": "bad", "note": "no slot offered"}
    )
    entries = {e.call_id: (e.week, e.verdict, e.note) for e in ReviewListEntry.objects.for_org(org)}
    assert entries == {
        good.pk: (dt.date(2025, 3, 3), "good", "textbook greeting"),
        bad.pk: (dt.date(2025, 3, 3), "bad", "no slot offered"),
    }
    body = manager.get(f"{REVIEW}?week=2025-03-06").content.decode()
    good_part, bad_part = body.split('id="review-bad"')
    assert "textbook greeting" in good_part and "no slot offered" in bad_part
    assert "4 March 10:30" in good_part
    assert 'href="https://rec.example/1.mp3"' in body
    assert manager.get(f"{REVIEW}?week=2025-03-10").content.decode().count("No calls on the list.") == 2
    entry = ReviewListEntry.objects.for_org(org).get(call=good)
    response = manager.post(reverse("acquisition:review_remove", args=[entry.pk]))
    assert response["Location"] == f"{REVIEW}?week=2025-03-03"
    assert list(ReviewListEntry.objects.for_org(org).values_list("call_id", flat=True)) == [bad.pk]


# --- checklist editor ------------------------------------------------------------------------------------


def test_checklist_editor_adds_removes_and_reorders(web: Any, org: Any, branch: Any) -> None:
    url = reverse("acquisition:checklist", args=[branch.pk])
    manager = web("manager")
    assert "Greets and introduces the clinic" in manager.get(url).content.decode()
    assert manager.post(url, {"action": "add", "label": "Offers a consultation"}).status_code == 302
    remove_url = reverse("acquisition:checklist_remove", args=[branch.pk])
    move_url = reverse("acquisition:checklist_move", args=[branch.pk])
    manager.post(remove_url, {"item": "contact"})
    manager.post(move_url, {"direction": "up", "item": "offers-a-consultation"})
    manager.post(move_url, {"direction": "down", "item": "greeting"})

    def active() -> list[tuple[int, str]]:
        return list(
            CallChecklistItem.objects.for_org(org)
            .filter(checklist__branch=branch, is_active=True)
            .order_by("position")
            .values_list("position", "code")
        )

    assert active() == [
        (0, "services_prices"),
        (1, "greeting"),
        (2, "offers_slot"),
        (3, "offers-a-consultation"),
        (4, "books"),
    ]
    assert manager.post(url, {"action": "add", "label": ""}).status_code == 422
    assert manager.post(remove_url, {"item": "nope"}).status_code == 404
    assert len(active()) == 5
    assert CallChecklistItem.objects.for_org(org).get(code="contact").is_active is False


# --- the live call log in a real browser ---------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not __import__("os").path.exists(CHROMIUM), reason="/usr/bin/chromium is not installed")
def test_a_new_call_appears_in_the_open_call_log_without_reload(
    org: Any, branch: Any, users: Any, live_server: Any, monkeypatch: Any
) -> None:
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    integration = integration_services.integration_create(
        org=org, actor=None, provider="generic", branch=branch
    )[0]
    old = ingest(org, integration, caller="+79160000060")
    client = Client()
    client.force_login(users["frontdesk"], backend="django.contrib.auth.backends.ModelBackend")
    from django.conf import settings

    cookie = settings.SESSION_COOKIE_NAME
    session = client.cookies[cookie].value
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context()
            context.add_cookies([{"name": cookie, "value": session, "url": live_server.url}])
            page = context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{live_server.url}{log_url(branch)}")
            page.wait_for_selector(f'tr[data-call-id="{old.pk}"]')
            page.evaluate("document.body.setAttribute('data-marker', 'not reloaded')")
            new = ingest(org, integration, caller="+79160000061", status="missed")
            row = page.wait_for_selector(f'tr[data-call-id="{new.pk}"]', timeout=12_000)
            assert row is not None
            assert page.get_attribute("body", "data-marker") == "not reloaded"
            first = page.locator("#call-rows tr").first
            assert first.get_attribute("data-call-id") == str(new.pk)
            assert "Missed" in first.inner_text()
            assert "+7 916 000-00-61" in first.inner_text() or "+7 916 000 00 61" in first.inner_text()
            assert page.locator("#call-rows tr").count() == 2
        finally:
            browser.close()
    assert errors == []


def test_call_log_of_an_organisation_without_branches(web: Any, org: Any) -> None:
    response = web("frontdesk").get(LOG)
    assert response.status_code == 200
    assert "There are no branches yet." in response.content.decode()


def test_call_log_defaults_to_the_first_branch(web: Any, org: Any, branch: Any, integration: Any) -> None:
    call = ingest(org, integration)
    assert f'data-call-id="{call.pk}"' in web("frontdesk").get(LOG).content.decode()

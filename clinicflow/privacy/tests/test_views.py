"""Pages of the breach register: who may see them, forms whose errors name the field, deadlines shown
on the branch's clock with the overdue ones highlighted, three languages, tenant isolation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from clinicflow.accounts.roles import PERMISSIONS, Role
from clinicflow.booking.tests.factories import make_patient
from clinicflow.core.models import AuditEvent, Branch, Organization
from clinicflow.privacy.models import AffectedPatient, AffectedSnapshot, Incident, IncidentDeadline
from clinicflow.privacy.tests.factories import make_incident

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)


def _form(**changes: Any) -> dict[str, Any]:
    data = {
        "title": "Phishing of a front-desk account",
        "discovered_at": "2026-03-02T12:30",
        "occurred_from": "2026-03-01T08:00",
        "occurred_to": "",
        "facts": "A front-desk password was phished; the account opened 40 patient cards.",
        "effects": "Names and phone numbers disclosed.",
        "remedial_actions": "Password reset, sessions ended.",
        "status": "open",
        "data_categories": ["identity", "contacts"],
        "jurisdictions": ["RU"],
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER])
def test_owner_and_manager_see_the_register_and_its_menu_entry(
    web: Callable[[str], Client], role: str
) -> None:
    page = web(role).get("/privacy/incidents/")
    assert page.status_code == 200
    assert 'href="/privacy/incidents/"' in page.content.decode()


@pytest.mark.parametrize("role", [Role.MARKETER, Role.FRONTDESK, Role.DOCTOR])
def test_other_roles_are_refused_and_see_no_menu_entry(
    web: Callable[[str], Client], org: Organization, role: str
) -> None:
    incident = make_incident(org)
    client = web(role)
    for url in ("/privacy/incidents/", "/privacy/incidents/new/", f"/privacy/incidents/{incident.pk}/"):
        assert client.get(url).status_code == 403, url
    assert client.post("/privacy/incidents/new/", _form()).status_code == 403
    assert Incident.objects.for_org(org).count() == 1
    assert 'href="/privacy/incidents/"' not in client.get("/patients/").content.decode()


def test_creating_through_the_page_reads_times_on_the_branch_clock_and_computes_deadlines(
    web: Callable[[str], Client], org: Organization, branch: Branch
) -> None:
    response = web("owner").post("/privacy/incidents/new/", _form())
    assert response.status_code == 302
    incident = Incident.objects.for_org(org).get()
    assert response["Location"] == f"/privacy/incidents/{incident.pk}/"
    discovered = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)  # 12:30 in Moscow
    assert incident.discovered_at == discovered
    assert (incident.data_categories, incident.jurisdictions) == (["contacts", "identity"], ["RU"])
    deadlines = IncidentDeadline.objects.for_org(org).filter(incident=incident).order_by("due_at")
    assert [(d.kind, d.due_at) for d in deadlines] == [
        ("ru_initial", discovered + 24 * H),
        ("ru_followup", discovered + 72 * H),
    ]
    row = AuditEvent.objects.for_org(org).get(object_type="incident", action="create")
    assert row.object_id == str(incident.pk) and "facts" in row.fields


def _checkbox(page: str, name: str, value: str) -> str:
    """The ``<input>`` tag of one checkbox."""
    marker = f'name="{name}" value="{value}"'
    start = page.rindex("<input", 0, page.index(marker))
    return page[start : page.index(">", start)]


def test_the_new_form_proposes_the_organisations_jurisdiction(
    web: Callable[[str], Client], branch: Branch
) -> None:
    page = web("owner").get("/privacy/incidents/new/").content.decode()
    assert "checked" in _checkbox(page, "jurisdictions", "RU")
    assert "checked" not in _checkbox(page, "jurisdictions", "EU")
    assert "checked" not in _checkbox(page, "jurisdictions", "CN")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"discovered_at": "yesterday"}, "discovered_at", "Enter a valid date/time."),
        ({"occurred_from": "2026-03-02T13:00"}, "occurred_from", "must not be after the discovery"),
        ({"discovered_at": "2099-01-01T10:00"}, "discovered_at", "cannot be in the future"),
    ],
)
def test_a_refused_form_names_the_field_and_stores_nothing(
    web: Callable[[str], Client],
    org: Organization,
    branch: Branch,
    changes: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = web("owner").post("/privacy/incidents/new/", _form(**changes))
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in errors[field][0]
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Incident.objects.for_org(org).exists()


def test_the_detail_highlights_an_overdue_deadline_and_records_a_notification(
    web: Callable[[str], Client], org: Organization, branch: Branch, users: Any
) -> None:
    discovered = timezone.now() - 30 * H  # the 24-hour notice is overdue, the 72-hour one is not
    incident = make_incident(org, discovered_at=discovered)
    client = web("manager")
    page = client.get(f"/privacy/incidents/{incident.pk}/").content.decode()
    initial_row = page.split('id="deadline-ru_initial"')[1].split("</tr>")[0]
    followup_row = page.split('id="deadline-ru_followup"')[1].split("</tr>")[0]
    assert 'class="overdue"' in initial_row and "badge overdue" in initial_row
    assert "badge overdue" not in followup_row
    local = (discovered + 24 * H).astimezone(branch.tz).strftime("%-d %B %Y, %H:%M")
    assert local in initial_row  # due on the Moscow clock
    done_at = (timezone.now() - H).astimezone(branch.tz).strftime("%Y-%m-%dT%H:%M")
    posted = client.post(
        f"/privacy/incidents/{incident.pk}/deadline/",
        {"kind": "ru_initial", "done_at": done_at, "reference": "RKN 2026/77"},
    )
    assert posted.status_code == 302
    row = IncidentDeadline.objects.for_org(org).get(incident=incident, kind="ru_initial")
    assert (row.done_by, row.reference) == (users["manager"], "RKN 2026/77")
    page = client.get(f"/privacy/incidents/{incident.pk}/").content.decode()
    initial_row = page.split('id="deadline-ru_initial"')[1].split("</tr>")[0]
    assert "badge overdue" not in initial_row and "badge late" in initial_row and "RKN 2026/77" in initial_row


def test_a_wrong_notification_record_names_the_field(
    web: Callable[[str], Client], org: Organization, branch: Branch
) -> None:
    incident = make_incident(org, discovered_at=timezone.now() - H)
    response = web("owner").post(
        f"/privacy/incidents/{incident.pk}/deadline/", {"kind": "ru_initial", "done_at": "2000-01-01T10:00"}
    )
    assert response.status_code == 422
    assert "Notified at: must not be before the discovery" in response.content.decode()
    assert not IncidentDeadline.objects.for_org(org).filter(done_at__isnull=False).exists()


def test_the_edit_page_changes_the_incident_and_audits_the_field_names(
    web: Callable[[str], Client], org: Organization, branch: Branch
) -> None:
    incident = make_incident(org, discovered_at=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC))
    client = web("owner")
    assert client.get(f"/privacy/incidents/{incident.pk}/edit/").status_code == 200
    response = client.post(
        f"/privacy/incidents/{incident.pk}/edit/", _form(status="closed", jurisdictions=["RU"])
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "closed"
    row = AuditEvent.objects.for_org(org).get(object_type="incident", action="update")
    assert "status" in row.fields and "facts" in row.fields
    assert "phished" not in str(row.fields)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["Breach register", "Next deadline", "overdue"]),
        ("ru", ["Реестр инцидентов", "Ближайший срок", "просрочен"]),
        ("zh-hans", ["数据泄露登记簿", "下一个期限", "已逾期"]),
    ],
)
def test_the_register_speaks_three_languages(
    web: Callable[[str], Client], org: Organization, branch: Branch, language: str, words: list[str]
) -> None:
    make_incident(org, discovered_at=timezone.now() - 30 * H)
    client = web("owner")
    client.post("/i18n/setlang/", {"language": language, "next": "/privacy/incidents/"})
    page = client.get("/privacy/incidents/").content.decode()
    for word in words:
        assert word in page, word
    incident = Incident.objects.for_org(org).get()
    detail = client.get(f"/privacy/incidents/{incident.pk}/").content.decode()
    assert f'lang="{language}"' in detail


def test_another_organisations_incident_is_404_everywhere_and_unchanged(
    web: Callable[[str], Client], other_org: Organization, org: Organization, users: Any
) -> None:
    theirs = make_incident(other_org, title="Secret Shanghai incident")
    base = f"/privacy/incidents/{theirs.pk}"
    for role in ("owner", "manager"):
        client = web(role)
        for url in (f"{base}/", f"{base}/edit/", f"{base}/affected/", f"{base}/affected.csv"):
            response = client.get(url)
            assert response.status_code == 404, url
            assert "Secret Shanghai" not in response.content.decode()
        assert client.post(f"{base}/edit/", _form()).status_code == 404
        assert (
            client.post(
                f"{base}/deadline/", {"kind": "cn_immediate", "done_at": "2026-03-02T10:00"}
            ).status_code
            == 404
        )
        attach = {
            "subject": str(users["frontdesk"].pk),
            "start": "2026-03-02T10:00",
            "end": "2026-03-02T11:00",
        }
        assert client.post(f"{base}/affected/attach/", attach).status_code == 404
        assert "Secret Shanghai" not in client.get("/privacy/incidents/").content.decode()
    theirs.refresh_from_db()
    assert theirs.title == "Secret Shanghai incident"
    assert not IncidentDeadline.objects.for_org(other_org).filter(done_at__isnull=False).exists()
    assert not AffectedSnapshot.objects.exists()


def test_the_subject_must_be_a_staff_user_of_the_organisation(
    web: Callable[[str], Client], org: Organization, users: Any
) -> None:
    incident = make_incident(org)
    query = {"subject": str(users["outsider"].pk), "start": "2026-03-02T10:00", "end": "2026-03-02T11:00"}
    response = web("owner").post(f"/privacy/incidents/{incident.pk}/affected/attach/", query)
    assert response.status_code == 422
    assert list(response.context["query"].errors) == ["subject"]
    backwards = {**query, "subject": str(users["frontdesk"].pk), "end": "2026-03-02T09:00"}
    response = web("owner").post(f"/privacy/incidents/{incident.pk}/affected/attach/", backwards)
    assert response.status_code == 422
    assert list(response.context["query"].errors) == ["end"]
    assert not AffectedSnapshot.objects.exists()


def test_contacts_are_left_out_for_a_role_that_may_not_see_them(
    web: Callable[[str], Client], org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident = make_incident(org)
    patient = make_patient(org, last_name="Contactova", phone="+79165550101", email="c@example.org")
    snapshot = AffectedSnapshot.objects.create(
        organization=org,
        incident=incident,
        subject_email="x@demo.test",
        window_start=timezone.now() - H,
        window_end=timezone.now(),
        patient_count=1,
    )
    AffectedPatient.objects.create(
        organization=org, incident=incident, snapshot=snapshot, patient_id=patient.pk
    )
    owner = web("owner")
    assert "+79165550101" in owner.get(f"/privacy/incidents/{incident.pk}/affected/").content.decode()
    monkeypatch.setitem(PERMISSIONS, "patients.view_contacts", frozenset({Role.OWNER}))
    manager = web("manager")
    page = manager.get(f"/privacy/incidents/{incident.pk}/affected/").content.decode()
    assert "Contactova" in page
    assert "+79165550101" not in page and "c@example.org" not in page
    csv = manager.get(f"/privacy/incidents/{incident.pk}/affected.csv").content.decode("utf-8-sig")
    assert csv.splitlines() == [
        "patient_id,last_name,first_name,middle_name",
        f"{patient.pk},Contactova,Anna,",
    ]
    rows = AuditEvent.objects.for_org(org).filter(object_type="incident_affected").order_by("at", "id")
    assert [(r.action, r.fields) for r in rows] == [
        ("view", ["email", "name", "phones"]),
        ("view", ["name"]),
        ("export", ["name"]),
    ]


def test_the_list_page_has_a_fixed_number_of_queries(
    web: Callable[[str], Client], org: Organization, branch: Branch, django_assert_num_queries: Any
) -> None:
    client = web("owner")
    client.get("/privacy/incidents/")  # warm the session
    for _ in range(3):
        make_incident(org)
    with django_assert_num_queries(10):
        assert client.get("/privacy/incidents/").status_code == 200
    for _ in range(5):
        make_incident(org, jurisdictions=["EU", "CN"])
    with django_assert_num_queries(10):
        assert client.get("/privacy/incidents/").status_code == 200

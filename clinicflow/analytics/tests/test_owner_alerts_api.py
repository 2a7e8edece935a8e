"""The owner's alerts API (issue #17): ``GET /api/v1/alerts`` (a page of the organisation's alerts by
state and branch), ``POST /api/v1/alerts/<id>/state`` (seen = acknowledged, dismissed = resolved), the
thresholds ``GET/POST /api/v1/alerts/rules`` and ``DELETE /api/v1/alerts/rules/<id>`` — owners and
managers read and mark alerts and read the thresholds, only the owner sets and removes them; a bad field
is a 422 naming it and changes nothing; another organisation's alert or rule is a 404."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from clinicflow.analytics.models import AlertRule, OwnerAlert
from clinicflow.core.models import AuditEvent, Branch, Organization

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 29)


def _alert(
    org: Organization,
    n: int,
    *,
    branch: Branch | None = None,
    state: str = "new",
    metric: str = "admin_conversion",
) -> OwnerAlert:
    return OwnerAlert.objects.create(
        organization=org,
        branch=branch,
        scope=str(branch.pk) if branch else "",
        metric=metric,
        subject=f"s{n}",
        subject_label=f"Administrator {n}",
        source="range",
        period_start=DAY - dt.timedelta(days=13),
        period_end=DAY,
        value=Decimal("15.50"),
        baseline=Decimal("62.00"),
        count=40 + n,
        state=state,
        created_at=timezone.now() - dt.timedelta(hours=100 - n),
    )


def _fields(response: Any) -> list[str]:
    return list(response.json()["error"]["fields"])


def test_the_list_is_the_organisations_open_alerts_newest_first_paged(
    api, org, branch, branch2, other_org, other_branch
) -> None:
    alerts = [_alert(org, i, branch=branch if i % 2 else branch2) for i in range(7)]
    _alert(org, 10, state="dismissed")
    _alert(org, 11, state="seen")
    _alert(other_org, 12, branch=other_branch)
    client = api("owner")
    body = client.get("/api/v1/alerts?limit=3").json()
    assert (body["count"], body["limit"], body["offset"]) == (8, 3, 0)  # 7 new + 1 seen, none dismissed
    assert [a["subject_label"] for a in body["items"]] == [
        "Administrator 11",
        "Administrator 6",
        "Administrator 5",
    ]
    first = body["items"][1]
    assert first["id"] == str(alerts[6].pk) and first["state"] == "new" and first["branch"] == str(branch2.pk)
    assert first["value"] == "15.50" and first["baseline"] == "62.00" and first["threshold"] is None
    assert first["text"] == (
        "Administrator's conversion, Administrator 6: 15.5% (2026-11-16 – 2026-11-29); its normal level was 62.0%"
    )
    rest = client.get("/api/v1/alerts?limit=3&offset=6").json()
    assert [a["subject_label"] for a in rest["items"]] == ["Administrator 1", "Administrator 0"]
    by_branch = client.get(f"/api/v1/alerts?branch={branch.pk}&limit=200").json()
    assert {a["subject_label"] for a in by_branch["items"]} == {
        "Administrator 1",
        "Administrator 3",
        "Administrator 5",
    }
    assert client.get("/api/v1/alerts?branch=novosibirsk").json()["count"] == 4  # a slug names it too
    dismissed = client.get("/api/v1/alerts?state=dismissed").json()
    assert [a["subject_label"] for a in dismissed["items"]] == ["Administrator 10"]
    assert client.get("/api/v1/alerts?state=all").json()["count"] == 9
    assert client.get("/api/v1/alerts?state=seen").json()["count"] == 1
    # the manager reads them too; the other organisation sees only its own
    assert api("manager").get("/api/v1/alerts").json()["count"] == 8
    theirs = api("outsider").get("/api/v1/alerts").json()
    assert [a["subject_label"] for a in theirs["items"]] == ["Administrator 12"]


def test_a_bad_filter_is_a_422_naming_it(api, org, other_branch) -> None:
    client = api("owner")
    for query, field in (
        ("state=gone", "state"),
        ("branch=nowhere", "branch"),
        (f"branch={other_branch.pk}", "branch"),  # another organisation's branch is unknown here
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("offset=-1", "offset"),
    ):
        response = client.get(f"/api/v1/alerts?{query}")
        assert response.status_code == 422, query
        assert _fields(response) == [field], query


def test_roles_that_may_not_see_the_owners_view_are_refused(api, org) -> None:
    _alert(org, 1)
    rule = AlertRule.objects.create(organization=org, metric="nps", threshold=Decimal(10))
    for role in ("frontdesk", "doctor", "marketer"):
        client = api(role)
        assert client.get("/api/v1/alerts").status_code == 403
        assert client.get("/api/v1/alerts/rules").status_code == 403
        assert client.delete(f"/api/v1/alerts/rules/{rule.pk}").status_code == 403
    assert AlertRule.objects.filter(pk=rule.pk).exists()
    denied = AuditEvent.objects.filter(organization=org, object_type="owner_alert", outcome="denied")
    assert denied.count() == 3


def test_an_alert_is_acknowledged_and_resolved_and_nothing_else_changes(api, org, other_org) -> None:
    alert, other = _alert(org, 1), _alert(org, 2)
    client = api("manager")
    seen = client.post(f"/api/v1/alerts/{alert.pk}/state", {"state": "seen"}, content_type="application/json")
    assert seen.status_code == 200 and seen.json()["state"] == "seen"
    alert.refresh_from_db()
    assert alert.state == "seen"
    again = client.post(
        f"/api/v1/alerts/{alert.pk}/state", {"state": "seen"}, content_type="application/json"
    )
    assert again.status_code == 200 and again.json() == seen.json()  # a retry answers the same
    done = api("owner").post(
        f"/api/v1/alerts/{alert.pk}/state", {"state": "dismissed"}, content_type="application/json"
    )
    assert done.json()["state"] == "dismissed"
    assert [a["id"] for a in client.get("/api/v1/alerts").json()["items"]] == [str(other.pk)]
    bad = client.post(f"/api/v1/alerts/{other.pk}/state", {"state": "gone"}, content_type="application/json")
    assert bad.status_code == 422 and _fields(bad) == ["state"]
    missing = client.post(f"/api/v1/alerts/{other.pk}/state", {}, content_type="application/json")
    assert missing.status_code == 422 and _fields(missing) == ["state"]
    foreign = _alert(other_org, 3)
    for alert_id in (foreign.pk, "not-an-id"):
        response = client.post(
            f"/api/v1/alerts/{alert_id}/state", {"state": "dismissed"}, content_type="application/json"
        )
        assert response.status_code == 404
    other.refresh_from_db()
    foreign.refresh_from_db()
    assert other.state == "new" and foreign.state == "new"
    assert (
        api("marketer")
        .post(f"/api/v1/alerts/{other.pk}/state", {"state": "seen"}, content_type="application/json")
        .status_code
        == 403
    )
    other.refresh_from_db()
    assert other.state == "new"


def test_the_owner_sets_and_removes_thresholds_and_the_manager_reads_them(api, org, branch) -> None:
    owner, manager = api("owner"), api("manager")
    made = owner.post(
        "/api/v1/alerts/rules",
        {"metric": "admin_conversion", "threshold": "40", "window_days": 14, "branch": "moscow"},
        content_type="application/json",
    )
    assert made.status_code == 201
    rule = made.json()
    assert (rule["metric"], rule["threshold"], rule["window_days"], rule["branch"], rule["unit"]) == (
        "admin_conversion",
        "40.00",
        14,
        str(branch.pk),
        "percent",
    )
    assert rule["branch_name"] == "Moscow" and rule["metric_label"] == "Administrator's conversion"
    created = AuditEvent.objects.get(organization=org, object_type="alert_rule", action="create")
    assert created.object_id == rule["id"] and created.role == "owner"
    # the same metric and branch again replaces it; the chain's NPS is another rule
    owner.post(
        "/api/v1/alerts/rules",
        {"metric": "admin_conversion", "threshold": 35.5, "window_days": 28, "branch": str(branch.pk)},
        content_type="application/json",
    )
    owner.post("/api/v1/alerts/rules", {"metric": "nps", "threshold": -20}, content_type="application/json")
    listed = manager.get("/api/v1/alerts/rules").json()
    assert [(r["metric"], r["threshold"], r["window_days"], r["branch"]) for r in listed] == [
        ("admin_conversion", "35.50", 28, str(branch.pk)),
        ("nps", "-20.00", 14, None),
    ]
    # the manager may not change them
    refused = manager.post(
        "/api/v1/alerts/rules", {"metric": "nps", "threshold": 50}, content_type="application/json"
    )
    assert refused.status_code == 403
    nps = next(r for r in listed if r["metric"] == "nps")
    assert manager.delete(f"/api/v1/alerts/rules/{nps['id']}").status_code == 403
    assert AlertRule.objects.for_org(org).count() == 2
    assert AlertRule.objects.for_org(org).get(metric="nps").threshold == Decimal("-20.00")
    # the owner removes one
    assert owner.delete(f"/api/v1/alerts/rules/{nps['id']}").status_code == 204
    assert owner.delete(f"/api/v1/alerts/rules/{nps['id']}").status_code == 404
    assert [r["metric"] for r in owner.get("/api/v1/alerts/rules").json()] == ["admin_conversion"]
    assert AuditEvent.objects.filter(organization=org, object_type="alert_rule", action="delete").count() == 1


def test_a_bad_threshold_is_a_422_naming_its_field_and_nothing_is_stored(api, org) -> None:
    owner = api("owner")
    cases = [
        ({"metric": "revenue", "threshold": 1}, "metric"),
        ({"metric": "funnel_booked", "threshold": 1}, "metric"),  # range-only: no threshold on it
        ({"threshold": 1}, "metric"),
        ({"metric": "nps"}, "threshold"),
        ({"metric": "nps", "threshold": "abc"}, "threshold"),
        ({"metric": "admin_conversion", "threshold": 140}, "threshold"),
        ({"metric": "no_show_rate", "threshold": -1}, "threshold"),
        ({"metric": "nps", "threshold": 10, "window_days": 0}, "window_days"),
        ({"metric": "nps", "threshold": 10, "window_days": 93}, "window_days"),
        ({"metric": "nps", "threshold": 10, "window_days": "two"}, "window_days"),
        ({"metric": "nps", "threshold": 10, "branch": "nowhere"}, "branch"),
        ({"metric": "nps", "threshold": 10, "branch": "x" * 101}, "branch"),
    ]
    for body, field in cases:
        response = owner.post("/api/v1/alerts/rules", body, content_type="application/json")
        assert response.status_code == 422, body
        assert _fields(response) == [field], body
    assert not AlertRule.objects.for_org(org).exists()
    assert not AuditEvent.objects.filter(organization=org, object_type="alert_rule", outcome="ok").exists()


def test_another_organisations_rule_is_not_found_and_stays(api, other_org) -> None:
    theirs = AlertRule.objects.create(organization=other_org, metric="nps", threshold=Decimal(10))
    owner = api("owner")
    assert owner.delete(f"/api/v1/alerts/rules/{theirs.pk}").status_code == 404
    assert owner.delete("/api/v1/alerts/rules/not-an-id").status_code == 404
    assert owner.get("/api/v1/alerts/rules").json() == []
    assert AlertRule.objects.filter(pk=theirs.pk).exists()


def test_the_list_reads_in_a_fixed_number_of_queries(api, org, branch, django_assert_max_num_queries) -> None:
    client = api("owner")
    client.get("/api/v1/alerts")  # the token's first use is recorded
    for i in range(30):
        _alert(org, i, branch=branch if i % 2 else None)
    with django_assert_max_num_queries(5):
        body = client.get("/api/v1/alerts?limit=100").json()
    assert body["count"] == 30 and len(body["items"]) == 30
    with django_assert_max_num_queries(5):
        assert len(client.get("/api/v1/alerts/rules").json()) == 0

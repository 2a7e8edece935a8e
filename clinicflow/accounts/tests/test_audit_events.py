"""Audit rows for sign-in events, token life and report denials (SECURITY.md LG-01)."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinicflow.accounts.models import ApiToken, User
from clinicflow.accounts.services import api_token_issue, api_token_revoke
from clinicflow.conftest import PASSWORD
from clinicflow.core.models import AuditEvent, Organization

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token"
MFA_ON = {"MFA_REQUIRED": True, "API_TOKEN_TTL_DAYS": 90, "UNIQUE_CALL_WINDOW_DAYS": 30}


def _last_seq(org: Organization) -> int:
    last = AuditEvent.objects.filter(organization=org).order_by("-seq").first()
    return last.seq if last else 0


def _rows(org: Organization, after: int) -> list[tuple[str, str, str, str, str]]:
    return [
        (e.action, e.object_type, e.object_id, e.outcome, e.actor_email)
        for e in AuditEvent.objects.filter(organization=org, seq__gt=after).order_by("seq")
    ]


def _no_secret_in(org: Organization, *secrets: str) -> None:
    for event in AuditEvent.objects.filter(organization=org):
        text = event.canonical() + event.user_agent
        for secret in secrets:
            assert secret not in text


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def _login(client: Client, email: str, password: str = PASSWORD):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR="10.7.7.7")


def test_a_login_leaves_one_ok_login_row_with_the_client_address(users, org) -> None:
    owner, start = users["owner"], _last_seq(org)
    assert _login(Client(), "owner@demo.test").status_code == 302
    assert _rows(org, start) == [("login", "session", str(owner.pk), "ok", "owner@demo.test")]
    event = AuditEvent.objects.get(organization=org, seq=start + 1)
    assert (event.actor_id, event.role, event.ip) == (owner.pk, "owner", "10.7.7.7")
    _no_secret_in(org, PASSWORD)


def test_a_logout_leaves_one_logout_row(users, org) -> None:
    client = Client()
    _login(client, "owner@demo.test")
    start = _last_seq(org)
    assert client.post("/accounts/logout/").status_code == 302
    assert _rows(org, start) == [("logout", "session", str(users["owner"].pk), "ok", "owner@demo.test")]


def test_a_logout_without_a_session_leaves_no_row(users, org) -> None:
    start = _last_seq(org)
    Client().post("/accounts/logout/")
    assert _rows(org, start) == []


def test_a_wrong_password_for_a_staff_email_leaves_one_failed_login_row(users, org) -> None:
    start = _last_seq(org)
    assert _login(Client(), "doctor@demo.test", "wrong password!").status_code == 200
    assert _rows(org, start) == [("login", "session", str(users["doctor"].pk), "failed", "doctor@demo.test")]
    _no_secret_in(org, "wrong password!", PASSWORD)


def test_a_failed_login_is_recorded_in_the_users_organisation_only(users, org, other_org) -> None:
    start, other_start = _last_seq(org), _last_seq(other_org)
    _login(Client(), "owner@other.test", "wrong password!")
    assert _rows(org, start) == []
    assert _rows(other_org, other_start) == [
        ("login", "session", str(users["outsider"].pk), "failed", "owner@other.test")
    ]


def test_an_unknown_email_leaves_no_audit_row_and_no_user(users, org) -> None:
    audit_rows, user_count = AuditEvent.objects.count(), User.objects.count()
    assert _login(Client(), "nobody@demo.test", "wrong password!").status_code == 200
    assert AuditEvent.objects.count() == audit_rows
    assert User.objects.count() == user_count
    assert not User.objects.filter(email="nobody@demo.test").exists()


def test_a_failed_token_request_is_audited_as_a_failed_login(users, org) -> None:
    start = _last_seq(org)
    body = {"email": "owner@demo.test", "password": "wrong password!"}
    assert Client().post(TOKEN, body, content_type="application/json").status_code == 401
    assert _rows(org, start) == [("login", "session", str(users["owner"].pk), "failed", "owner@demo.test")]
    _no_secret_in(org, "wrong password!")


@override_settings(CLINICFLOW=MFA_ON)
def test_a_failed_and_a_passed_second_factor_code_are_audited(users, org) -> None:
    owner = users["owner"]
    device = TOTPDevice.objects.create(user=owner, name="a", confirmed=True)
    client = Client()
    _login(client, "owner@demo.test")
    start = _last_seq(org)
    assert client.post("/accounts/mfa/", {"token": "000000"}).status_code == 422
    device.refresh_from_db()
    device.throttle_reset()
    code = _code(device)
    assert client.post("/accounts/mfa/", {"token": code}).status_code == 302
    assert _rows(org, start) == [
        ("login", "mfa_code", str(owner.pk), "failed", "owner@demo.test"),
        ("login", "mfa_code", str(owner.pk), "ok", "owner@demo.test"),
    ]
    _no_secret_in(org, code, PASSWORD)


@override_settings(CLINICFLOW=MFA_ON)
def test_a_token_request_with_a_wrong_code_is_audited_as_a_failed_second_factor(users, org) -> None:
    TOTPDevice.objects.create(user=users["owner"], name="a", confirmed=True)
    start = _last_seq(org)
    body = {"email": "owner@demo.test", "password": PASSWORD, "otp": "000000"}
    assert Client().post(TOKEN, body, content_type="application/json").status_code == 401
    assert _rows(org, start) == [("login", "mfa_code", str(users["owner"].pk), "failed", "owner@demo.test")]


def test_token_creation_and_revocation_are_audited_without_the_token(users, org) -> None:
    owner, start = users["owner"], _last_seq(org)
    body = {"email": "owner@demo.test", "password": PASSWORD}
    raw = Client().post(TOKEN, body, content_type="application/json").json()["token"]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.delete(TOKEN).json() == {"revoked": True}
    token_id = str(ApiToken.objects.get(user=owner, prefix=raw[:8]).pk)
    assert _rows(org, start) == [
        ("create", "api_token", token_id, "ok", "owner@demo.test"),
        ("delete", "api_token", token_id, "ok", "owner@demo.test"),
    ]
    assert AuditEvent.objects.get(organization=org, seq=start + 2).fields == ["revoked_at"]
    _no_secret_in(org, raw, raw[8:], PASSWORD)


def test_revoking_a_token_that_is_not_live_writes_no_row(users, org) -> None:
    owner = users["owner"]
    _, raw = api_token_issue(user=owner)
    assert api_token_revoke(user=owner, raw=raw) is True
    start = _last_seq(org)
    assert api_token_revoke(user=owner, raw=raw) is False
    assert api_token_revoke(user=owner, raw="cf_not_a_token") is False
    assert _rows(org, start) == []


@pytest.mark.parametrize(
    ("url", "action"),
    [
        ("/analytics/reports/capacity_load/", "view"),
        ("/analytics/reports/capacity_load/export.csv", "export"),
    ],
)
def test_a_role_opening_a_report_it_may_not_see_leaves_a_denied_row(web, users, org, url, action) -> None:
    client = web("marketer")
    start = _last_seq(org)
    assert client.get(url).status_code == 403
    assert _rows(org, start) == [(action, "report", "capacity_load", "denied", "marketer@demo.test")]


def test_a_report_the_role_may_see_leaves_no_denied_row(web, org) -> None:
    client = web("marketer")
    start = _last_seq(org)
    assert client.get("/analytics/reports/new_patients/").status_code == 200
    assert [row for row in _rows(org, start) if row[3] == "denied"] == []


def test_a_role_asking_the_api_for_a_report_it_may_not_see_leaves_a_denied_row(api, org) -> None:
    client = api("marketer")
    start = _last_seq(org)
    response = client.get("/api/v1/reports/capacity_load")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert _rows(org, start) == [("view", "report", "capacity_load", "denied", "marketer@demo.test")]

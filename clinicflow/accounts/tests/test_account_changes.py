"""Step-up for second factors and passwords; sessions and tokens ended on account changes (AU-03, AU-04)."""

from __future__ import annotations

import datetime as dt
import io

from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client, RequestFactory, override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from freezegun import freeze_time

from clinicflow.accounts.api_auth import TokenAuth
from clinicflow.accounts.models import ApiToken, User
from clinicflow.accounts.services import (
    api_token_issue,
    user_deactivate,
    user_set_password,
    user_set_role,
)
from clinicflow.conftest import PASSWORD
from clinicflow.core.models import AuditEvent

MFA_ON = {"MFA_REQUIRED": True, "API_TOKEN_TTL_DAYS": 90, "UNIQUE_CALL_WINDOW_DAYS": 30}
NEW_PASSWORD = "another long passphrase 2026"


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def _login(client: Client, email: str = "owner@demo.test", password: str = PASSWORD):
    return client.post("/accounts/login/", {"username": email, "password": password})


def _audit(user: User, object_type: str) -> list[tuple[str, list[str]]]:
    rows = AuditEvent.objects.filter(organization=user.organization, object_type=object_type, actor=user)
    return [(row.action, row.fields) for row in rows.order_by("seq")]


def _confirmed(user: User) -> list[int]:
    return list(TOTPDevice.objects.filter(user=user, confirmed=True).values_list("pk", flat=True))


def _page_opens(client: Client) -> bool:
    return client.get("/home/").status_code == 200


def _token_works(raw: str) -> bool:
    return TokenAuth().authenticate(RequestFactory().get("/api/v1/"), raw) is not None


def _verified_client(user: User, device: TOTPDevice) -> Client:
    client = Client()
    _login(client, user.email)
    assert client.post("/accounts/mfa/", {"token": _code(device)}).status_code == 302
    return client


@override_settings(CLINICFLOW=MFA_ON)
def test_a_password_only_session_cannot_replace_an_existing_device(users) -> None:
    owner = users["owner"]
    device = TOTPDevice.objects.create(user=owner, name="a", confirmed=True)
    client = Client()
    _login(client)
    page = client.get("/accounts/mfa/setup/")
    assert page.status_code == 302 and page["Location"] == "/accounts/mfa/"
    rogue = TOTPDevice.objects.create(user=owner, name="rogue", confirmed=False)
    response = client.post("/accounts/mfa/setup/", {"token": _code(rogue), "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/mfa/"
    assert _confirmed(owner) == [device.pk]
    assert _audit(owner, "mfa_device") == []


@override_settings(CLINICFLOW=MFA_ON)
def test_a_verified_session_replaces_the_device_only_with_the_password(users) -> None:
    owner = users["owner"]
    old = TOTPDevice.objects.create(user=owner, name="a", confirmed=True)
    client = _verified_client(owner, old)
    page = client.get("/accounts/mfa/setup/")
    assert page.status_code == 200 and b'name="password"' in page.content
    new = TOTPDevice.objects.get(user=owner, confirmed=False)
    assert client.post("/accounts/mfa/setup/", {"token": _code(new)}).status_code == 422
    assert client.post("/accounts/mfa/setup/", {"token": _code(new), "password": "wrong!"}).status_code == 422
    assert _confirmed(owner) == [old.pk]
    new.refresh_from_db()
    new.throttle_reset()
    response = client.post("/accounts/mfa/setup/", {"token": _code(new), "password": PASSWORD})
    assert response.status_code == 302
    assert _confirmed(owner) == [new.pk]
    assert _audit(owner, "mfa_device") == [("update", ["confirmed"])]


@override_settings(CLINICFLOW=MFA_ON)
def test_first_enrolment_needs_only_the_password_session_and_is_audited(users) -> None:
    doctor = users["doctor"]
    client = Client()
    _login(client, doctor.email)
    assert client.get("/accounts/mfa/setup/").status_code == 200
    device = TOTPDevice.objects.get(user=doctor, confirmed=False)
    assert client.post("/accounts/mfa/setup/", {"token": _code(device)}).status_code == 302
    assert _confirmed(doctor) == [device.pk]
    assert _audit(doctor, "mfa_device") == [("create", ["confirmed"])]


@override_settings(CLINICFLOW=MFA_ON)
def test_removing_the_device_needs_a_verified_session_and_the_password(users) -> None:
    owner = users["owner"]
    device = TOTPDevice.objects.create(user=owner, name="a", confirmed=True)
    unverified = Client()
    _login(unverified)
    response = unverified.post("/accounts/mfa/remove/", {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/mfa/"
    client = _verified_client(owner, device)
    assert client.post("/accounts/mfa/remove/", {"password": "wrong!"}).status_code == 422
    assert _confirmed(owner) == [device.pk]
    response = client.post("/accounts/mfa/remove/", {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/mfa/setup/"
    assert _confirmed(owner) == []
    assert _audit(owner, "mfa_device") == [("delete", ["confirmed"])]


def test_a_password_change_needs_the_current_password(users) -> None:
    manager = users["manager"]
    client = Client()
    _login(client, manager.email)
    body = {"old_password": "wrong password!", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert client.post("/accounts/password/", body).status_code == 422
    manager.refresh_from_db()
    assert manager.check_password(PASSWORD)
    assert _audit(manager, "user") == []


@override_settings(CLINICFLOW=MFA_ON)
def test_a_password_change_needs_a_verified_session(users) -> None:
    owner = users["owner"]
    TOTPDevice.objects.create(user=owner, name="a", confirmed=True)
    client = Client()
    _login(client)
    body = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    response = client.post("/accounts/password/", body)
    assert response.status_code == 302 and response["Location"] == "/accounts/mfa/"
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_a_password_change_keeps_this_session_with_a_new_key_and_ends_the_others(users) -> None:
    manager = users["manager"]
    other = Client()
    _login(other, manager.email)
    _, raw = api_token_issue(user=manager, name="script")
    client = Client()
    _login(client, manager.email)
    before = client.session.session_key
    body = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert client.post("/accounts/password/", body).status_code == 302
    assert client.session.session_key != before
    assert _page_opens(client)
    assert not _page_opens(other)
    assert Session.objects.count() == 1
    assert not _token_works(raw)
    assert _audit(manager, "user") == [("update", ["password"])]


def _signed_in_with_token(user: User) -> tuple[Client, str]:
    client = Client()
    _login(client, user.email)
    assert _page_opens(client)
    _, raw = api_token_issue(user=user, name="script")
    return client, raw


def _bystander(users) -> tuple[Client, str]:
    return _signed_in_with_token(users["doctor"])


def _still_works(client: Client, raw: str) -> bool:
    return _page_opens(client) and _token_works(raw)


def test_deactivation_ends_sessions_and_revokes_tokens(users) -> None:
    user = users["frontdesk"]
    client, raw = _signed_in_with_token(user)
    bystander, their_raw = _bystander(users)
    user_deactivate(org=user.organization, actor=users["owner"], user=user)
    assert Session.objects.count() == 1
    assert not _token_works(raw)
    assert ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() == 0
    assert _still_works(bystander, their_raw)
    assert _audit(users["owner"], "user") == [("update", ["is_active"])]


def test_a_role_change_ends_sessions_and_revokes_tokens(users) -> None:
    user = users["manager"]
    client, raw = _signed_in_with_token(user)
    bystander, their_raw = _bystander(users)
    user_set_role(org=user.organization, actor=users["owner"], user=user, role="frontdesk")
    assert User.objects.get(pk=user.pk).role == "frontdesk"
    assert not _page_opens(client)
    assert not _token_works(raw)
    assert _still_works(bystander, their_raw)
    assert _audit(users["owner"], "user") == [("update", ["role"])]


def test_an_administrative_password_reset_ends_every_session(users) -> None:
    user = users["manager"]
    client, raw = _signed_in_with_token(user)
    bystander, their_raw = _bystander(users)
    user_set_password(actor=users["owner"], user=user, password=NEW_PASSWORD)
    assert not _page_opens(client)
    assert not _token_works(raw)
    assert _still_works(bystander, their_raw)


@override_settings(SESSION_ABSOLUTE_SECONDS=3600, SESSION_COOKIE_AGE=3600, SESSION_IDLE_TIMEOUT_SECONDS=1800)
def test_the_absolute_lifetime_does_not_slide_with_activity(users) -> None:
    client = Client()
    start = dt.datetime(2026, 11, 22, 10, 0)
    with freeze_time(start):
        _login(client)
    for minutes in (1, 20, 40, 59):
        with freeze_time(start + dt.timedelta(minutes=minutes)):
            assert client.get("/home/").status_code == 200
    with freeze_time(start + dt.timedelta(minutes=61)):
        response = client.get("/home/")
        assert response.status_code == 302 and "expired=1" in response["Location"]
        assert client.get("/home/").status_code == 302


def test_the_staffuser_command_changes_the_role_through_the_service(users) -> None:
    user = users["marketer"]
    client, raw = _signed_in_with_token(user)
    call_command("staffuser", "--email", user.email, "--role", "doctor", stdout=io.StringIO())
    assert User.objects.get(pk=user.pk).role == "doctor"
    assert not _page_opens(client)
    assert not _token_works(raw)
    rows = AuditEvent.objects.filter(organization=user.organization, object_type="user", object_id=user.pk)
    assert list(rows.order_by("seq").values_list("action", "fields")) == [
        ("create", ["email", "role"]),
        ("update", ["role"]),
    ]

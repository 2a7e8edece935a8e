"""Wrong passwords on the pages that ask for it again are throttled per user and per address."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client, override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from freezegun import freeze_time

from clinicflow.accounts.models import User
from clinicflow.conftest import PASSWORD
from clinicflow.core.models import AuditEvent, AuditOutcome

MFA_ON = {"MFA_REQUIRED": True, "API_TOKEN_TTL_DAYS": 90, "UNIQUE_CALL_WINDOW_DAYS": 30}
NEW_PASSWORD = "another long passphrase 2026"


@pytest.fixture(autouse=True)
def _counters_in_the_test_database(settings: Any) -> None:
    """Counters in the database cache, rolled back with each test (also with REDIS_URL set)."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "clinicflow_cache"}
    }


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def _verified_client(user: User, device: TOTPDevice) -> Client:
    client = Client()
    client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert client.post("/accounts/mfa/", {"token": _code(device)}).status_code == 302
    return client


def _failed_checks(user: User) -> list[list[str]]:
    rows = AuditEvent.objects.filter(
        organization=user.organization, actor=user, object_type="password_check", outcome=AuditOutcome.FAILED
    )
    return [row.fields for row in rows.order_by("seq")]


@override_settings(CLINICFLOW=MFA_ON, AXES_FAILURE_LIMIT=5)
def test_removing_the_second_factor_is_refused_after_five_wrong_passwords(users) -> None:
    owner = users["owner"]
    device = TOTPDevice.objects.create(user=owner, name="a", confirmed=True)
    client = _verified_client(owner, device)
    for _ in range(5):
        assert client.post("/accounts/mfa/remove/", {"password": "wrong!"}).status_code == 422
    refused = client.post("/accounts/mfa/remove/", {"password": PASSWORD})
    assert refused.status_code == 429
    assert b"Too many wrong passwords" in refused.content
    assert TOTPDevice.objects.filter(user=owner, confirmed=True).count() == 1
    assert _failed_checks(owner) == [["password"]] * 5 + [["locked"]]


@override_settings(CLINICFLOW=MFA_ON, AXES_FAILURE_LIMIT=5, AXES_COOLOFF_TIME=0.25)
def test_the_lock_ends_after_the_cool_off(users) -> None:
    owner = users["owner"]
    device = TOTPDevice.objects.create(user=owner, name="a", confirmed=True)
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with freeze_time(start) as clock:
        client = _verified_client(owner, device)
        for _ in range(5):
            client.post("/accounts/mfa/remove/", {"password": "wrong!"})
        assert client.post("/accounts/mfa/remove/", {"password": PASSWORD}).status_code == 429
        clock.tick(dt.timedelta(minutes=16))
        device.refresh_from_db()
        fresh = _verified_client(owner, device)  # a new session: the old one idled out
        response = fresh.post("/accounts/mfa/remove/", {"password": PASSWORD})
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=owner, confirmed=True).count() == 0


@override_settings(AXES_FAILURE_LIMIT=5)
def test_a_password_change_is_refused_after_five_wrong_current_passwords(users) -> None:
    manager = users["manager"]
    client = Client()
    client.post("/accounts/login/", {"username": manager.email, "password": PASSWORD})
    wrong = {"old_password": "wrong password!", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    for _ in range(5):
        assert client.post("/accounts/password/", wrong).status_code == 422
    right = {**wrong, "old_password": PASSWORD}
    refused = client.post("/accounts/password/", right)
    assert refused.status_code == 429
    manager.refresh_from_db()
    assert manager.check_password(PASSWORD)
    assert _failed_checks(manager) == [["password"]] * 5 + [["locked"]]


@override_settings(CLINICFLOW=MFA_ON, AXES_FAILURE_LIMIT=5)
def test_replacing_the_second_factor_is_refused_after_five_wrong_passwords(users) -> None:
    owner = users["owner"]
    old = TOTPDevice.objects.create(user=owner, name="a", confirmed=True)
    client = _verified_client(owner, old)
    client.get("/accounts/mfa/setup/")
    new = TOTPDevice.objects.get(user=owner, confirmed=False)
    for _ in range(5):
        body = {"token": _code(new), "password": "wrong!"}
        assert client.post("/accounts/mfa/setup/", body).status_code == 422
    response = client.post("/accounts/mfa/setup/", {"token": _code(new), "password": PASSWORD})
    assert response.status_code == 429
    assert list(TOTPDevice.objects.filter(user=owner, confirmed=True).values_list("pk", flat=True)) == [
        old.pk
    ]


@override_settings(CLINICFLOW=MFA_ON, AXES_FAILURE_LIMIT=2)
def test_one_address_guessing_for_several_users_is_refused(users) -> None:
    """Per address the limit is four times the per-user one: 8 wrong passwords over four users."""
    clients = []
    for persona in ("owner", "manager", "doctor", "frontdesk", "marketer"):
        user = users[persona]
        device = TOTPDevice.objects.create(user=user, name="a", confirmed=True)
        clients.append((user, _verified_client(user, device)))
    for _user, client in clients[:4]:
        for _ in range(2):
            assert client.post("/accounts/mfa/remove/", {"password": "wrong!"}).status_code == 422
    marketer, client = clients[4]
    assert client.post("/accounts/mfa/remove/", {"password": PASSWORD}).status_code == 429
    assert TOTPDevice.objects.filter(user=marketer, confirmed=True).count() == 1

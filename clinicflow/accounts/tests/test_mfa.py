"""TOTP two-factor authentication (AU-03)."""

from __future__ import annotations

from django.test import override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinicflow.conftest import PASSWORD


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def _login(client, email="doctor@demo.test"):
    return client.post("/accounts/login/", {"username": email, "password": PASSWORD})


@override_settings(CLINICFLOW={"MFA_REQUIRED": True, "API_TOKEN_TTL_DAYS": 90, "UNIQUE_CALL_WINDOW_DAYS": 30})
def test_patient_pages_redirect_to_enrolment_then_verification(users, client) -> None:
    _login(client)
    response = client.get("/patients/")
    assert response.status_code == 302 and response["Location"] == "/accounts/mfa/setup/"
    page = client.get("/accounts/mfa/setup/")
    assert page.status_code == 200 and b"data:image/svg+xml;base64," in page.content
    device = TOTPDevice.objects.get(user=users["doctor"])
    assert client.post("/accounts/mfa/setup/", {"token": "000000"}).status_code == 422
    device.refresh_from_db()
    device.throttle_reset()  # django-otp throttles after a failure; a real user waits a second
    assert client.post("/accounts/mfa/setup/", {"token": _code(device)}).status_code == 302
    assert client.get("/patients/").status_code == 200
    client.post("/accounts/logout/")
    _login(client)
    response = client.get("/patients/")
    assert response["Location"] == "/accounts/mfa/"


@override_settings(CLINICFLOW={"MFA_REQUIRED": True, "API_TOKEN_TTL_DAYS": 90, "UNIQUE_CALL_WINDOW_DAYS": 30})
def test_a_used_code_cannot_be_reused(users, client) -> None:
    device = TOTPDevice.objects.create(user=users["owner"], name="a", confirmed=True)
    code = _code(device)
    _login(client, "owner@demo.test")
    assert client.post("/accounts/mfa/", {"token": code}).status_code == 302
    assert client.get("/patients/").status_code == 200
    client.post("/accounts/logout/")
    _login(client, "owner@demo.test")
    assert client.post("/accounts/mfa/", {"token": code}).status_code == 422
    assert client.get("/patients/").status_code == 302


def test_mfa_is_not_forced_when_not_required(users, client) -> None:
    _login(client, "owner@demo.test")
    assert client.get("/patients/").status_code == 200


@override_settings(CLINICFLOW={"MFA_REQUIRED": True, "API_TOKEN_TTL_DAYS": 90, "UNIQUE_CALL_WINDOW_DAYS": 30})
def test_api_token_needs_a_one_time_code_when_mfa_is_required(users, client) -> None:
    device = TOTPDevice.objects.create(user=users["owner"], name="a", confirmed=True)
    url = "/api/v1/auth/token"
    body = {"email": "owner@demo.test", "password": PASSWORD}
    assert client.post(url, body, content_type="application/json").status_code == 401
    ok = client.post(url, {**body, "otp": _code(device)}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["token"].startswith("cf_")

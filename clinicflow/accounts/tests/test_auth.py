"""Logins, throttling, sessions, passwords and API tokens (SECURITY.md AU-01, AU-02, AU-04, AU-05)."""

from __future__ import annotations

import datetime as dt
from http.cookies import SimpleCookie

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from freezegun import freeze_time
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from clinicflow.accounts.models import ApiToken, User
from clinicflow.conftest import PASSWORD

LOGIN = "/accounts/login/"


def _login(client: Client, email: str, password: str, ip: str = "10.1.1.1"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_login_with_the_right_password_opens_the_home_page(users) -> None:
    client = Client()
    response = _login(client, "owner@demo.test", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/home/"
    assert client.get("/home/").status_code == 200


def test_the_session_key_changes_at_login(users) -> None:
    client = Client()
    client.get(LOGIN)
    client.session.save()
    before = client.session.session_key
    _login(client, "owner@demo.test", PASSWORD)
    assert client.session.session_key != before


@override_settings(AXES_FAILURE_LIMIT=3)
def test_login_is_locked_after_repeated_failures_even_with_the_right_password(users) -> None:
    client = Client()
    assert _login(client, "owner@demo.test", "wrong password!").status_code == 200
    assert _login(client, "owner@demo.test", "wrong password!").status_code == 200
    assert _login(client, "owner@demo.test", "wrong password!").status_code == 429
    assert _login(client, "owner@demo.test", PASSWORD).status_code == 429
    assert _login(Client(), "owner@demo.test", PASSWORD, ip="10.9.9.9").status_code == 429  # per account too


def test_unknown_user_and_wrong_password_get_the_same_answer(users) -> None:
    unknown = _login(Client(), "nobody@demo.test", "wrong password!", ip="10.2.2.2")
    wrong = _login(Client(), "owner@demo.test", "wrong password!", ip="10.3.3.3")
    assert unknown.status_code == wrong.status_code == 200
    strip = lambda r: r.content.replace(b"nobody@demo.test", b"").replace(b"owner@demo.test", b"")
    import re

    token = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub(b"", strip(unknown)) == token.sub(b"", strip(wrong))


def test_logout_invalidates_the_session_on_the_server(users) -> None:
    client = Client()
    _login(client, "owner@demo.test", PASSWORD)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.post("/accounts/logout/").status_code == 302
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert replay.get("/home/").status_code == 302


def test_logout_by_get_is_refused(users) -> None:
    client = Client()
    _login(client, "owner@demo.test", PASSWORD)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/home/").status_code == 200


def test_an_idle_session_expires(users) -> None:
    client = Client()
    with freeze_time("2026-11-22 10:00:00"):
        _login(client, "owner@demo.test", PASSWORD)
        assert client.get("/home/").status_code == 200
    with freeze_time("2026-11-22 10:20:00"):
        assert client.get("/home/").status_code == 200
    idle = settings.SESSION_IDLE_TIMEOUT_SECONDS
    later = dt.datetime(2026, 11, 22, 10, 20) + dt.timedelta(seconds=idle + 60)
    with freeze_time(later):
        response = client.get("/home/")
        assert response.status_code == 302
        assert "expired=1" in response["Location"]
        assert client.get("/home/").status_code == 302


def test_a_deactivated_users_live_session_is_rejected(users) -> None:
    client = Client()
    _login(client, "frontdesk@demo.test", PASSWORD)
    assert client.get("/patients/").status_code == 200
    User.objects.filter(email="frontdesk@demo.test").update(is_active=False)
    assert client.get("/patients/").status_code == 302


def test_a_password_change_ends_other_sessions(users) -> None:
    client = Client()
    _login(client, "manager@demo.test", PASSWORD)
    user = User.objects.get(email="manager@demo.test")
    user.set_password("another long passphrase 2026")
    user.save()
    assert client.get("/patients/").status_code == 302


@override_settings(SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True)
def test_session_cookie_attributes(users) -> None:
    client = Client()
    response = _login(client, "owner@demo.test", PASSWORD)
    jar = SimpleCookie()
    jar.load(response.headers.get("Set-Cookie", ""))
    morsel = response.cookies[settings.SESSION_COOKIE_NAME]
    assert morsel["httponly"] is True
    assert morsel["secure"] is True
    assert morsel["samesite"] == "Lax"


def test_production_settings_hash_passwords_with_argon2() -> None:
    from config import settings as real_settings

    assert real_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"])
def test_a_stored_hash_is_argon2(org) -> None:
    user = User(organization=org, email="x@demo.test", role="owner")
    user.set_password("a long enough passphrase")
    assert user.password.startswith("argon2$argon2id$")


def test_common_and_short_passwords_are_refused_and_long_passphrases_accepted() -> None:
    for bad in ["password123", "short", "123456789012"]:
        with pytest.raises(ValidationError):
            validate_password(bad)
    validate_password("the quick brown fox jumps over the lazy dog at dawn every single day!!"[:64])


@hsettings(max_examples=30, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=20, max_size=128))
def test_long_uncommon_passwords_are_accepted(password: str) -> None:
    if password.isdigit():
        return
    validate_password(password)


def test_api_token_is_stored_hashed_and_works(users, db) -> None:
    response = Client().post(
        "/api/v1/auth/token",
        {"email": "owner@demo.test", "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200
    raw = response.json()["token"]
    assert len(raw) >= 43
    assert not ApiToken.objects.filter(key_hash=raw).exists()
    assert ApiToken.objects.filter(prefix=raw[:8]).count() == 1
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/patients").status_code == 200
    assert client.delete("/api/v1/auth/token").json() == {"revoked": True}
    assert client.get("/api/v1/patients").status_code == 401


def test_api_token_for_wrong_password_is_401_with_the_error_shape(users) -> None:
    response = Client().post(
        "/api/v1/auth/token",
        {"email": "owner@demo.test", "password": "nope"},
        content_type="application/json",
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_an_expired_token_is_refused(users, api) -> None:
    client = api("owner")
    ApiToken.objects.update(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert client.get("/api/v1/patients").status_code == 401


def test_no_token_and_garbage_tokens_are_401(users) -> None:
    assert Client().get("/api/v1/patients").status_code == 401
    for header in ["Bearer ", "Bearer x", "Basic abc", "Bearer " + "x" * 5000]:
        assert Client(HTTP_AUTHORIZATION=header).get("/api/v1/patients").status_code == 401

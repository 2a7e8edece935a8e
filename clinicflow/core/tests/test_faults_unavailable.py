"""``ServiceUnavailableMiddleware`` in process (any database): a lost database, raised in a view or in
a middleware, is a 503 with ``Retry-After`` and no detail, also with DEBUG on; a full disk likewise;
any other error stays the plain 500 page. The real outage is in ``test_faults_database.py``."""

from __future__ import annotations

import errno
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import InterfaceError, OperationalError
from django.test import Client

from clinicflow.acquisition import webhooks
from clinicflow.booking import selectors as booking_selectors

pytestmark = pytest.mark.django_db

SECRET_DETAIL = "could not connect to server at 10.9.8.7 port 5432 as clinic_owner"


def _client(**headers: str) -> Client:
    return Client(raise_request_exception=False, headers=headers)


def _fail_with(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    def boom(**kwargs: Any) -> Any:
        raise exc

    monkeypatch.setattr(booking_selectors, "public_branch_get", boom)


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize(
    "exc", [OperationalError(SECRET_DETAIL), InterfaceError("connection already closed")]
)
def test_a_lost_database_in_a_view_is_a_503_page_without_details(
    monkeypatch: pytest.MonkeyPatch, settings: Any, debug: bool, exc: Exception
) -> None:
    settings.DEBUG = debug
    _fail_with(monkeypatch, exc)
    response = _client().get("/book/some-branch/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "Temporarily unavailable" in body
    for detail in (
        "10.9.8.7",
        "clinic_owner",
        "Traceback",
        "OperationalError",
        "InterfaceError",
        "already closed",
    ):
        assert detail not in body
    assert response["X-Frame-Options"] == "DENY"  # the security headers survive the swap
    assert "Content-Security-Policy" in response


def test_the_retry_after_comes_from_the_setting(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    settings.SERVICE_UNAVAILABLE_RETRY_AFTER = 120
    _fail_with(monkeypatch, OperationalError(SECRET_DETAIL))
    response = _client().get("/book/some-branch/")
    assert (response.status_code, response["Retry-After"]) == (503, "120")
    assert "120 seconds" in response.content.decode()


def test_a_lost_database_in_a_webhook_is_a_503_json_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(provider: str, secret: str) -> Any:
        raise OperationalError(SECRET_DETAIL)

    monkeypatch.setattr(webhooks, "integration_for", boom)
    response = _client().post("/hooks/calls/generic/s3cret", data=b"{}", content_type="application/json")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {
        "error": {
            "code": "service_unavailable",
            "message": "The service is unavailable; nothing was saved. Please try again later.",
            "fields": {},
        }
    }


def test_a_lost_database_in_a_middleware_is_a_503_too(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    def boom(self: Any) -> Any:
        raise OperationalError(SECRET_DETAIL)

    monkeypatch.setattr(SessionStore, "load", boom)
    client = _client()
    client.cookies[settings.SESSION_COOKIE_NAME] = "a-session-key"  # the session is read to find the user
    response = client.get("/book/some-branch/")
    assert response.status_code == 503
    assert SECRET_DETAIL not in response.content.decode()


def test_a_full_disk_is_a_503_that_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_with(monkeypatch, OSError(errno.ENOSPC, "No space left on device", "/var/lib/secret/path"))
    response = _client().get("/book/some-branch/")
    assert response.status_code == 503
    body = response.content.decode()
    assert "disk is full" in body and "/var/lib/secret/path" not in body


def test_any_other_error_stays_the_plain_500_page(monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_with(monkeypatch, ValueError(SECRET_DETAIL))
    response = _client().get("/book/some-branch/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert SECRET_DETAIL not in response.content.decode()


def test_the_503_page_is_in_the_visitors_language(monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_with(monkeypatch, OperationalError(SECRET_DETAIL))
    ru = _client(**{"Accept-Language": "ru"}).get("/book/some-branch/")
    zh = _client(**{"Accept-Language": "zh-hans"}).get("/book/some-branch/")
    assert ru.status_code == zh.status_code == 503
    assert 'lang="ru"' in ru.content.decode() and "Temporarily unavailable" not in ru.content.decode()
    assert 'lang="zh-hans"' in zh.content.decode() and "Temporarily unavailable" not in zh.content.decode()

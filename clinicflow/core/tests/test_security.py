"""Headers, production settings, output encoding, CSRF and error pages (SECURITY.md CR-01/02, IN-02/04, LG-03)."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from clinicflow.core.logging import NeutraliseNewlinesFilter
from clinicflow.core.middleware import CACHEABLE_PREFIXES
from clinicflow.core.tests.test_tenant_matrix import _fill_page, _other_world, _page_routes

ROOT = Path(__file__).resolve().parents[3]


def _simple_get_routes() -> list[str]:
    routes: list[str] = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                if str(p.pattern).startswith("api/"):
                    continue
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                if "<" not in route and "(" not in route and "^" not in route:
                    routes.append("/" + route)

    walk(get_resolver().url_patterns)
    return routes


def test_every_simple_page_sends_the_security_headers(web) -> None:
    client = web("owner")
    checked = 0
    for route in _simple_get_routes():
        response = client.get(route)
        if response.status_code >= 500:
            pytest.fail(f"{route} answered {response.status_code}")
        csp = response.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp, route
        assert "object-src 'none'" in csp, route
        assert "unsafe-inline" not in csp, route
        assert response["X-Content-Type-Options"] == "nosniff", route
        assert response["Referrer-Policy"] == "same-origin", route
        if not route.startswith(CACHEABLE_PREFIXES):
            assert response["Cache-Control"] == "no-store", route
        checked += 1
    assert checked >= 5


def test_api_responses_are_not_cached_and_are_nosniff(api, users) -> None:
    response = api("owner").get("/api/v1/patients")
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_production_settings_pass_check_deploy_at_warning_level() -> None:
    env = {
        **os.environ,
        "CLINICFLOW_ENV": "production",
        "SECRET_KEY": "p" * 30 + "roduction-secret-key-for-the-check-1234",
        "ALLOWED_HOSTS": "clinic.example.org",
        "FIELD_ENCRYPTION_KEYS": "k1:" + "QUFB" * 10 + "QUE=",
        "BLIND_INDEX_KEY": "QkJC" * 11,
        "AUDIT_HMAC_KEY": "audit-hmac-key-for-the-deploy-check-0123456789",
    }
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "clinicflow.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = {**os.environ, "CLINICFLOW_ENV": "production", "ALLOWED_HOSTS": "x.org"}
    env.pop("SECRET_KEY", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "clinicflow.cli", "check"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_urlconf_serves_no_media_files() -> None:
    routes = " ".join(_simple_get_routes())
    assert "media" not in routes


def test_newlines_in_log_messages_cannot_forge_records() -> None:
    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "login failed for %s", ("bob\r\nFAKE entry",), None
    )
    NeutraliseNewlinesFilter().filter(record)
    assert record.getMessage() == "login failed for bob\\r\\nFAKE entry"
    assert "\n" not in record.getMessage()


def test_the_500_page_is_generic(users, settings) -> None:
    from config import urls

    body = Client().get("/nonexistent-404-page/")
    assert body.status_code == 404
    from clinicflow.core.views import server_error

    response = server_error(Client().get("/").wsgi_request)
    assert response.status_code == 500
    assert b"Traceback" not in response.content and b"SELECT" not in response.content
    assert urls.handler500 == "clinicflow.core.views.server_error"


def _grep(pattern: str) -> list[str]:
    hits = []
    for path in (ROOT / "clinicflow").rglob("*"):
        if path.suffix not in (".py", ".html") or "tests" in path.parts or "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(pattern, line):
                hits.append(f"{path.relative_to(ROOT)}:{number}")
    return hits


# Allowlists: a new use must be reviewed and added here with a reason.
CSRF_EXEMPT_ALLOWED = (
    "clinicflow/acquisition/",
    "clinicflow/booking/",
    "clinicflow/imports/yclients/",  # YCLIENTS webhooks: a per-organisation secret in the path
    "clinicflow/fhir/",  # the bearer-token FHIR API: no cookie credential (fhir/views/base.py)
)  # signed webhooks, tracking script, public booking JSON
MARK_SAFE_ALLOWED: tuple[str, ...] = ()


def test_csrf_exempt_is_used_only_on_webhooks_and_public_endpoints() -> None:
    offenders = [h for h in _grep(r"csrf_exempt") if not h.startswith(CSRF_EXEMPT_ALLOWED)]
    assert offenders == []


def test_no_mark_safe_or_autoescape_off() -> None:
    offenders = [
        h for h in _grep(r"mark_safe|\|safe\b|autoescape off") if not h.startswith(MARK_SAFE_ALLOWED)
    ]
    assert offenders == []


def test_no_random_module_for_secrets() -> None:
    offenders = [
        h for h in _grep(r"^\s*import random|from random import") if "simulator" not in h and "bench" not in h
    ]
    assert offenders == []


def test_home_shows_each_branchs_local_time(web, branch, branch2) -> None:
    import datetime as dt

    from freezegun import freeze_time

    with freeze_time(dt.datetime(2026, 11, 22, 19, 16, tzinfo=dt.UTC)):
        content = web("owner").get("/home/").content.decode()
    assert "<td>22:16</td>" in content  # Europe/Moscow, UTC+3
    assert "<td>02:16</td>" in content  # Asia/Novosibirsk, UTC+7


def test_webhooks_pass_the_middleware_stack_without_sessions_or_cookies(db) -> None:
    response = Client().post("/hooks/calls/generic/not-a-secret", "{}", content_type="application/json")
    assert response.status_code == 404
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in response.headers
    assert "Content-Security-Policy" not in response.headers  # JSON for machines, not a page


def test_the_cached_policy_is_the_one_django_csp_builds_and_overrides_still_apply(rf) -> None:
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse

    from clinicflow.core.middleware import ContentSecurityPolicyMiddleware

    ours = ContentSecurityPolicyMiddleware(lambda r: HttpResponse())
    theirs = CSPMiddleware(lambda r: HttpResponse())
    for _ in range(2):  # the second response takes the cached header
        request = rf.get("/home/")
        ours.process_request(request)
        mine = ours.process_response(request, HttpResponse())
        request = rf.get("/home/")
        theirs.process_request(request)
        reference = theirs.process_response(request, HttpResponse())
        assert mine["Content-Security-Policy"] == reference["Content-Security-Policy"]
        assert "script-src 'self'" in mine["Content-Security-Policy"]

    request = rf.get("/home/")
    ours.process_request(request)
    updated = HttpResponse()
    updated._csp_update = {"img-src": ["https://maps.example.org"]}  # a per-view @csp_update
    response = ours.process_response(request, updated)
    assert "https://maps.example.org" in response["Content-Security-Policy"]

    exempt = HttpResponse()
    exempt._csp_exempt = True  # @csp_exempt() (the call-tracking webhooks)
    request = rf.post("/hooks/calls/generic/x")
    ours.process_request(request)
    assert "Content-Security-Policy" not in ours.process_response(request, exempt)


def _assert_security_headers(response, route: str) -> None:
    assert response.status_code < 500, (route, response.status_code)
    csp = response.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, route
    assert "object-src 'none'" in csp, route
    assert "unsafe-inline" not in csp, route
    assert response["X-Content-Type-Options"] == "nosniff", route
    assert response["Referrer-Policy"] == "same-origin", route
    if not route.startswith(CACHEABLE_PREFIXES):
        assert response["Cache-Control"] == "no-store", route


def test_every_page_with_parameters_sends_the_security_headers(web, org, branch) -> None:
    """CR-02 on routes that take ids, filled with the signed-in organisation's own objects."""
    world = _other_world(org, branch, branch)
    ids = {**world.ids, "name": "channels", "fmt": "csv", "provider": "generic", "secret": "x"}
    ids.update(kind="booking_confirmation", channel="sms", language="ru")
    client = web("owner")
    checked = 0
    for route, names in _page_routes():
        if route.startswith("hooks/"):  # machine-to-machine webhook, no browser reads it
            continue
        url = _fill_page(route, names, ids)
        _assert_security_headers(client.get(url), url)
        checked += 1
    assert checked >= 45


def test_public_pages_send_the_security_headers(org, branch) -> None:
    anonymous = Client()
    for route in ("/accounts/login/", f"/book/{branch.pk}/", "/t/cf.js"):
        response = anonymous.get(route)
        assert response.status_code == 200, route
        _assert_security_headers(response, route)
    assert "no-store" not in anonymous.get("/t/cf.js").get("Cache-Control", "")

"""Undeclared HTTP methods (TRACE, PUT, DELETE, ...) get 405 on pages as on the API (SECURITY.md IN-03)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db


def _page_routes() -> list[str]:
    routes: list[str] = []

    def walk(patterns: list[Any], prefix: str = "") -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if not str(p.pattern).startswith("api/"):
                    walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                if "<" not in route and "(" not in route and "^" not in route:
                    routes.append("/" + route)

    walk(get_resolver().url_patterns)
    return routes


def test_trace_and_other_undeclared_methods_get_405_on_every_page(web: Any) -> None:
    client = web("owner")
    routes = _page_routes()
    assert len(routes) >= 10
    for route in routes:
        for method in ("TRACE", "PUT", "PATCH", "DELETE", "CONNECT", "PROPFIND"):
            response = client.generic(method, route)
            assert response.status_code == 405, (method, route, response.status_code)
            assert response["Allow"] == "GET, HEAD, POST", route


def test_an_anonymous_trace_gets_405_not_the_login_redirect() -> None:
    for route in ("/", "/patients/", "/book/", "/accounts/login/"):
        response = Client().generic("TRACE", route)
        assert response.status_code == 405, route
        assert response["X-Content-Type-Options"] == "nosniff"


def test_options_is_405_on_pages_but_answers_the_tracking_preflight() -> None:
    assert Client().options("/accounts/login/").status_code == 405
    assert Client().options("/t/session").status_code == 204
    assert Client().options("/t/lead").status_code == 204


def test_declared_methods_still_work_on_pages(web: Any) -> None:
    client = web("owner")
    assert client.get("/patients/").status_code == 200
    assert client.head("/patients/").status_code == 200
    assert Client().get("/accounts/login/").status_code == 200


def test_the_api_keeps_its_own_405(api: Any) -> None:
    response = api("owner").generic("TRACE", "/api/v1/patients")
    assert response.status_code == 405

"""``?next=`` and other redirect targets: only same-host relative paths are followed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory

from clinicflow.conftest import PASSWORD
from clinicflow.core.web import safe_next

HOSTILE = [
    "https://evil.example/",
    "//evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http://testserver.evil.example/",
    "/\t/evil.example",
    "ftp://testserver/x",
    "patients/",
]


@pytest.mark.parametrize("target", HOSTILE)
def test_a_foreign_or_scripted_next_is_refused(target: str) -> None:
    assert safe_next(RequestFactory().get("/"), target) == ""


def test_a_same_host_path_is_kept_and_an_absolute_same_host_url_reduced_to_it() -> None:
    request = RequestFactory().get("/")
    assert safe_next(request, "/booking/slots/?branch=1&day=2") == "/booking/slots/?branch=1&day=2"
    assert safe_next(request, "http://testserver/patients/?q=a") == "/patients/?q=a"
    assert safe_next(request, "") == ""
    assert safe_next(request, None) == ""


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_login_never_redirects_off_site(users: Any, target: str) -> None:
    data = {"username": "owner@demo.test", "password": PASSWORD, "next": target}
    response = Client().post("/accounts/login/", data)
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]
    assert "javascript" not in response["Location"]


@pytest.mark.django_db
def test_the_language_switch_never_redirects_off_site() -> None:
    response = Client().post("/i18n/setlang/", {"language": "ru", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/"

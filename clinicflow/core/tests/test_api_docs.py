"""The API explorer at /api/v1/docs works without a CDN: its Swagger UI comes from the project's own
static files (django-ninja's bundled build), and the strict CSP (no inline scripts) is kept.

The Chromium test at the end opens the page in a real browser, which is the only place a CSP
violation or a blocked request shows: it fails on console errors and on any request off the origin."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from clinicflow.core.tests.chromium import ARGS, CHROMIUM

DOCS = "/api/v1/docs"


class _Refs(HTMLParser):
    """Collects every URL the page loads (script src, link href) and the bodies of inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False
        self._script_type = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            if a.get("src"):
                self.urls.append(str(a["src"]))
            else:
                self._in_script = True
                self._script_type = (a.get("type") or "").lower()
        elif tag == "link" and a.get("href"):
            self.urls.append(str(a["href"]))
        elif tag in ("img", "iframe") and a.get("src"):
            self.urls.append(str(a["src"]))

    def handle_data(self, data: str) -> None:
        # Only executable scripts count: a JSON data block is not run by the browser.
        executable = self._script_type not in ("application/json", "application/ld+json")
        if self._in_script and executable and data.strip():
            self.inline_scripts.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def _parse(html: str) -> _Refs:
    refs = _Refs()
    refs.feed(html)
    return refs


def _directive(csp: str, name: str) -> list[str]:
    for part in csp.split(";"):
        tokens = part.split()
        if tokens and tokens[0] == name:
            return tokens[1:]
    raise AssertionError(f"CSP has no {name}: {csp!r}")


@pytest.fixture
def staff(web: Callable[[str], Client]) -> Client:
    return web("frontdesk")


@pytest.mark.django_db
def test_docs_page_loads_only_same_origin_static_assets(staff: Client) -> None:
    resp = staff.get(DOCS)
    assert resp.status_code == 200
    html = resp.content.decode()
    refs = _parse(html)

    assert not re.search(r"https?://", html), "the docs page names an absolute (off-site) URL"
    assert refs.urls, "no assets found: the page no longer loads Swagger UI"
    assert all(u.startswith("/static/") for u in refs.urls), refs.urls
    assert any(u.endswith("swagger-ui-bundle.js") for u in refs.urls)
    assert any(u.endswith("swagger-ui.css") for u in refs.urls)
    assert refs.inline_scripts == [], "an inline script would need 'unsafe-inline' in the CSP"
    # The page points Swagger UI at this API's schema, on this origin.
    assert '"url": "/api/v1/openapi.json"' in html


@pytest.mark.django_db
def test_every_asset_of_the_docs_page_is_served(staff: Client) -> None:
    urls = _parse(staff.get(DOCS).content.decode()).urls
    for url in urls:
        resp = staff.get(url)
        assert resp.status_code == 200, url
        body = b"".join(resp.streaming_content) if resp.streaming else resp.content
        found = finders.find(url.removeprefix("/static/"))
        assert found, f"{url} is not a file of the project's static finders"
        assert body == Path(str(found)).read_bytes(), url
        assert len(body) > 0, url


@pytest.mark.django_db
def test_docs_page_keeps_a_strict_csp(staff: Client) -> None:
    csp = staff.get(DOCS)["Content-Security-Policy"]
    script_src = _directive(csp, "script-src")
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, script_src
    assert script_src == ["'self'"], script_src
    assert "'unsafe-inline'" not in _directive(csp, "style-src")
    assert not re.search(r"https?://", csp), csp


@pytest.mark.django_db
def test_the_schema_the_page_loads_is_served(staff: Client) -> None:
    resp = staff.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    assert resp.json()["info"]["title"] == "Clinicflow API"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")
def test_docs_page_renders_operations_in_chromium_without_csp_errors(
    users: dict[str, Any], live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import sync_playwright

    from clinicflow.conftest import PASSWORD

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    origin = urlsplit(live_server.url).netloc
    errors: list[str] = []
    off_site: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "request",
                lambda r: (
                    off_site.append(r.url)
                    if urlsplit(r.url).scheme in ("http", "https") and urlsplit(r.url).netloc != origin
                    else None
                ),
            )
            page.goto(f"{live_server.url}/accounts/login/")
            page.fill("#id_username", "frontdesk@demo.test")
            page.fill("#id_password", PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_load_state()
            page.goto(f"{live_server.url}{DOCS}")
            page.wait_for_selector(".opblock", timeout=15000)
            operations = page.locator(".opblock").count()
            assert operations > 10, operations
            assert page.locator(".opblock-summary-path", has_text="/api/v1/auth/token").count() >= 1
            assert "Clinicflow API" in page.locator(".info .title").inner_text()
        finally:
            browser.close()
    assert errors == [], errors
    assert off_site == [], off_site

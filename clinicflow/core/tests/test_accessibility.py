"""axe-core on the main pages in English, Russian and Chinese, in headless Chromium: no serious or
critical WCAG 2.1 A/AA violation, and nothing the Content Security Policy refused. Runs in the normal
suite whenever /usr/bin/chromium exists (like clinicflow/booking/tests/test_browser.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import Patient
from clinicflow.simulator.demo import demo_setup, demo_simulate

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parent / "vendor" / "axe" / "axe.min.js"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
LANGUAGES = ("en", "ru", "zh-hans")
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
FAILING = {"serious", "critical"}

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)"
    ),
]


@pytest.fixture
def demo_clinic(db: Any) -> dict[str, str]:
    """The demo clinics with one simulated month; the addresses of the pages to check."""
    demo_setup()
    demo_simulate(overrides={"clinic": {"months": 1}})
    org = Organization.objects.get(slug="demo")
    patient = Patient.objects.for_org(org).order_by("last_name", "id").first()
    branch = Branch.objects.for_org(org).order_by("name").first()
    assert patient is not None and branch is not None
    return {
        "home": "/home/",
        "patients": "/patients/",
        "patient": f"/patients/{patient.pk}/",
        "calendar": f"/booking/?branch={branch.pk}",
        "calls": "/acquisition/calls/",
        "report": "/analytics/reports/capacity_load/",
        "booking": f"/book/{branch.pk}/",
    }


@pytest.fixture
def browser(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def _login(page: Any, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "owner@demo.clinic")
    page.fill("#id_password", "demo")
    page.locator('main button[type="submit"]').click()
    page.wait_for_url(f"{base}/home/")


def _serious(results: dict[str, Any]) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in FAILING
    ]


def test_main_pages_have_no_serious_accessibility_violations_in_any_language(
    demo_clinic: dict[str, str], browser: Any, live_server: Any
) -> None:
    base = live_server.url
    axe = AXE.read_text(encoding="utf-8")
    refused: list[str] = []
    found: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.add_cookies([{"name": "cf_language", "value": lang, "url": base}])
        page = context.new_page()
        page.on(
            "console",
            lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None,
        )
        _login(page, base)
        for name, path in demo_clinic.items():
            response = page.goto(f"{base}{path}")
            assert response is not None and response.status == 200, (lang, name)
            assert page.locator("html").get_attribute("lang") == lang
            page.evaluate(axe)  # through the DevTools protocol: the page's CSP still holds for the page
            results = page.evaluate(f"axe.run(document, {json.dumps(AXE_OPTIONS)})")
            if problems := _serious(results):
                found[f"{lang} {name}"] = problems
        context.close()
    assert found == {}, json.dumps(found, indent=1, ensure_ascii=False)
    assert refused == []


def test_phone_menu_opens_from_the_toggler_and_keyboard_reaches_the_skip_link(
    demo_clinic: dict[str, str], browser: Any, live_server: Any
) -> None:
    base = live_server.url
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    _login(page, base)
    nav = page.locator("#cf-nav")
    assert not nav.is_visible()
    page.get_by_role("button", name="Menu").click()
    nav.get_by_role("button", name="Today", exact=True).wait_for(state="visible")  # home + follow-up tasks
    page.goto(f"{base}/patients/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert skip.evaluate("el => el === document.activeElement") and skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_patient_search_updates_the_results_in_place(
    demo_clinic: dict[str, str], browser: Any, live_server: Any
) -> None:
    base = live_server.url
    org = Organization.objects.get(slug="demo")
    patient = Patient.objects.for_org(org).order_by("last_name", "id").last()
    assert patient is not None
    page = browser.new_page()
    _login(page, base)
    page.goto(f"{base}/patients/")
    page.evaluate("window.cfMarker = 1")  # survives only if the page is not reloaded
    with page.expect_response(
        lambda r: "/patients/?" in r.url and r.request.headers.get("hx-request") == "true"
    ):
        page.fill('input[name="q"]', patient.last_name)
    page.wait_for_function(
        "name => document.querySelector('#patient-results').innerText.includes(name)", arg=patient.last_name
    )
    assert page.evaluate("window.cfMarker") == 1
    assert f"q={patient.last_name}" in unquote(page.url)  # the address follows the search
    assert page.locator("#patient-results tbody tr").count() >= 1

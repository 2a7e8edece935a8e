"""The tracking script in a real headless Chromium on a host page served from another origin: the
phone number is swapped for a dynamic pool number and a form post creates a Lead."""

from __future__ import annotations

import http.server
import threading
from typing import Any

import pytest
from django.db import OperationalError

from clinicflow.acquisition import defaults
from clinicflow.acquisition.models import Lead, NumberLease, NumberPool, TrackingNumber, WebSession
from clinicflow.core.tests.chromium import ARGS, CHROMIUM

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)"
    ),
]

HOST_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Clinic</title></head><body>
<p>Call us: <a id="phone" data-cf-phone href="tel:+74951234567">+7 495 123-45-67</a></p>
<form id="f" data-cf-lead action="#sent" method="get">
  <input name="name" value="Anna"><input name="phone" value="8 916 777-66-55">
  <textarea name="message">Botox price?</textarea><button id="send" type="submit">Send</button>
</form>
<script>window.onerror = function () { document.body.setAttribute("data-error", "1"); };</script>
<script src="%(base)s/t/cf.js" data-key="%(key)s" data-branch="moscow" async></script>
</body></html>"""


def serve(html: str) -> tuple[http.server.HTTPServer, str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def _lead_saved(org: Any) -> bool:
    """Poll for the lead. On SQLite the test database is in memory with a shared cache, where a read
    while the live server's thread is writing the table fails at once with "database table is
    locked" (no busy wait): that means "not yet"."""
    try:
        return bool(Lead.objects.for_org(org).exists())
    except OperationalError:
        return False


def test_the_script_swaps_the_number_and_posts_the_form_as_a_lead(
    org: Any, branch: Any, live_server: Any, monkeypatch: Any
) -> None:
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    TrackingNumber.objects.create(
        organization=org, e164="+74951110001", pool=NumberPool.DYNAMIC, branch=branch
    )
    cfg = defaults.tracking_settings(org=org)
    server, origin = serve(HOST_PAGE % {"base": live_server.url, "key": cfg.public_key})
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
            try:
                page = browser.new_page()
                page.goto(f"{origin}/landing?utm_source=yandex&utm_medium=cpc&utm_campaign=botox")
                page.wait_for_function(
                    "document.getElementById('phone').getAttribute('href') === 'tel:+74951110001'"
                )
                assert "+7 495 111-00-01" in page.inner_text("#phone")
                page.click("#send")
                for _ in range(100):  # the form navigates away; the lead goes out as a keepalive request
                    if _lead_saved(org):
                        break
                    page.wait_for_timeout(100)
            finally:
                browser.close()
    finally:
        server.shutdown()
    session = WebSession.objects.for_org(org).get()
    assert (session.utm_source, session.medium, session.channel.code) == ("yandex", "cpc", "search_ads")
    assert session.number.e164 == "+74951110001"
    assert NumberLease.objects.for_org(org).filter(session=session).count() == 1
    lead = Lead.objects.for_org(org).get()
    assert (lead.name, lead.phone, lead.message, lead.session_id) == (
        "Anna",
        "+79167776655",
        "Botox price?",
        session.pk,
    )
    assert lead.channel.code == "search_ads"


def test_without_a_free_number_the_page_keeps_the_branch_number(
    org: Any, branch: Any, live_server: Any, monkeypatch: Any
) -> None:
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    cfg = defaults.tracking_settings(org=org)
    server, origin = serve(HOST_PAGE % {"base": live_server.url, "key": cfg.public_key})
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
            try:
                page = browser.new_page()
                page.goto(f"{origin}/")
                page.wait_for_function("true")
                page.wait_for_timeout(1500)
                assert page.get_attribute("#phone", "href") == "tel:+74951234567"
                assert page.evaluate("document.body.getAttribute('data-error')") is None
            finally:
                browser.close()
    finally:
        server.shutdown()
    assert WebSession.objects.for_org(org).get().number_id is None

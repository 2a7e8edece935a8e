"""Screenshots of the main pages in English, Russian and Chinese, into docs/screenshots/ (make screenshots).

    python scripts/screenshots.py                    # builds the demo database in a temporary folder
    python scripts/screenshots.py --db var/shots.sqlite3   # reuses (or builds once) that database

Builds the demo (``clinicflow demo`` into its own SQLite file, so ``var/clinicflow.sqlite3`` is left
alone), serves it with ``clinicflow runserver`` on a free local port, signs in as the demo owner in
headless Chromium (Playwright; ``/usr/bin/chromium`` when present) and saves one desktop-size PNG per
page and language, plus the home page at phone size. Chinese pages need a CJK font on the machine
(Debian: ``apt-get install fonts-noto-cjk``).
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
LANGUAGES = ("en", "ru", "zh-hans")
BROWSER_LOCALES = {"en": "en-GB", "ru": "ru-RU", "zh-hans": "zh-CN"}
DESKTOP: Any = {"width": 1366, "height": 860}  # playwright's ViewportSize
PHONE: Any = {"width": 390, "height": 844}
MAX_BYTES = 300_000
OWNER = ("owner@demo.clinic", "demo")
# A report worth showing first, when the demo has it; else the first one listed.
PREFERRED_REPORTS = ("channels", "channel_roi", "marketing_channels", "revenue", "capacity_load")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_demo(env: dict[str, str]) -> None:
    print("building the demo database (clinicflow demo)...", flush=True)
    subprocess.run([str(BIN / "clinicflow"), "demo"], cwd=ROOT, env=env, check=True)


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [str(BIN / "clinicflow"), "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("the server did not answer")


def discover(page: Any, base: str) -> dict[str, str]:
    """The addresses that depend on the data: a patient card, a report, the public booking page."""
    page.goto(f"{base}/patients/?sort=-clv")
    patient = page.locator('#patient-results a[href^="/patients/"]').first.get_attribute("href")
    page.goto(f"{base}/analytics/reports/")
    hrefs = page.eval_on_selector_all(
        'main a[href^="/analytics/reports/"]', "els => els.map(e => e.getAttribute('href'))"
    )
    reports = [h for h in hrefs if re.fullmatch(r"/analytics/reports/[\w-]+/", h)]
    report = next(
        (f"/analytics/reports/{n}/" for n in PREFERRED_REPORTS if f"/analytics/reports/{n}/" in reports), None
    )
    page.goto(f"{base}/booking/")
    branch = page.locator('select[name="branch"] option').first.get_attribute("value")
    return {
        "home": "/home/",
        "patients": "/patients/",
        "patient": patient or "/patients/",
        "calendar": "/booking/",
        "calls": "/acquisition/calls/",
        "report": report or (reports[0] if reports else "/analytics/reports/"),
        "booking": f"/book/{branch}/",
    }


def login(page: Any, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", OWNER[0])
    page.fill("#id_password", OWNER[1])
    page.locator('main button[type="submit"]').click()
    page.wait_for_load_state()


def capture(page: Any, url: str, target: Path, saved: list[Path]) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(target))
    saved.append(target)


def shoot(base: str, out: Path) -> list[Path]:
    """One browser per language (Chromium formats date fields in its own --lang)."""
    from playwright.sync_api import sync_playwright

    saved: list[Path] = []
    pages: dict[str, str] = {}
    with sync_playwright() as p:
        for lang in LANGUAGES:
            locale = BROWSER_LOCALES[lang]
            launch: dict[str, Any] = {
                "headless": True,
                "args": ["--no-sandbox", "--disable-gpu", f"--lang={locale}"],
            }
            if CHROMIUM.exists():
                launch["executable_path"] = str(CHROMIUM)
            browser = p.chromium.launch(**launch)
            try:
                language = [{"name": "cf_language", "value": lang, "url": base}]
                visitor = browser.new_context(viewport=DESKTOP, locale=locale)  # the public page, signed out
                visitor.add_cookies(cast(Any, language))
                context = browser.new_context(viewport=DESKTOP, locale=locale)
                context.add_cookies(cast(Any, language))
                page = context.new_page()
                login(page, base)
                pages = pages or discover(page, base)
                for name, path in pages.items():
                    shooter = visitor.new_page() if name == "booking" else page
                    capture(shooter, f"{base}{path}", out / f"{name}-{lang}.png", saved)
                if lang == "en":
                    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale=locale)
                    phone.add_cookies(cast(Any, context.cookies()))
                    capture(phone.new_page(), f"{base}/home/", out / "home-phone-en.png", saved)
            finally:
                browser.close()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, help="SQLite file of the demo (built when missing)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = (args.db or Path(tmp) / "demo.sqlite3").resolve()
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "DJANGO_SETTINGS_MODULE": "config.settings"}
        env.pop("CLINICFLOW_ENV", None)
        if not db.exists():
            build_demo(env)
        port = free_port()
        server = serve(env, port)
        try:
            args.out.mkdir(parents=True, exist_ok=True)
            saved = shoot(f"http://127.0.0.1:{port}", args.out)
        finally:
            server.terminate()
            server.wait(timeout=10)
    too_big = [p for p in saved if p.stat().st_size > MAX_BYTES]
    for path in saved:
        print(f"{path}  {path.stat().st_size // 1024} KB")
    if too_big:
        print(f"larger than {MAX_BYTES // 1000} KB: {', '.join(p.name for p in too_big)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

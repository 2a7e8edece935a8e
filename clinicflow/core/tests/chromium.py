"""The browser tests' Chromium: Debian's package, headless, without the background networking that
this machine's closed network refuses (see the README, "Tests and CI")."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
MISSING = "/usr/bin/chromium is not installed (apt-get install chromium)"

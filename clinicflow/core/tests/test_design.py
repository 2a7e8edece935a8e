"""The design system: vendored kit files as pinned, the grouped navigation, the htmx partial pages."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from clinicflow.accounts import context_processors
from clinicflow.accounts.context_processors import NAV_GROUPS
from clinicflow.patients.tests.factories import make_patient

CORE = Path(__file__).resolve().parent.parent
VENDOR_DIRS = [
    CORE / "static" / "vendor" / "tabler",
    CORE / "static" / "vendor" / "htmx",
    CORE / "static" / "vendor" / "chartjs",
    CORE / "tests" / "vendor" / "axe",
]


@pytest.mark.parametrize("folder", VENDOR_DIRS, ids=lambda p: p.name)
def test_vendored_files_match_their_recorded_checksums(folder: Path) -> None:
    lines = (folder / "CHECKSUMS.txt").read_text().splitlines()
    listed = {name for _digest, name in (line.split("  ", 1) for line in lines)}
    assert {"VERSION"} < listed and any(n.startswith("LICENSE") for n in listed)
    for line in lines:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    assert {p.name for p in folder.iterdir()} == listed | {"CHECKSUMS.txt"}


@pytest.mark.parametrize("folder", VENDOR_DIRS, ids=lambda p: p.name)
def test_vendored_code_references_no_source_map(folder: Path) -> None:
    for path in list(folder.glob("*.js")) + list(folder.glob("*.css")):
        assert b"sourceMappingURL" not in path.read_bytes(), path.name


def test_base_template_loads_only_the_projects_own_files() -> None:
    base = (CORE / "templates" / "base.html").read_text()
    assert re.findall(r'(?:src|href)="(?:https?:)?//', base) == []
    assert "vendor/tabler/tabler.min.css" in base and "vendor/htmx/htmx.min.js" in base
    assert "<style" not in base and "style=" not in base and "<script>" not in base


def _nav_labels(html: str) -> list[str]:
    nav = html.split('id="cf-nav"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'class="nav-link[^"]*"[^>]*>([^<]+)<', nav)


def test_owner_navigation_is_grouped_by_task_in_order(web) -> None:
    html = web("owner").get("/patients/").content.decode()
    labels = _nav_labels(html)
    assert labels == [str(label) for _key, label in NAV_GROUPS]
    assert '<a class="dropdown-item active" href="/patients/" aria-current="page">' in html
    assert 'class="skip-link" href="#main"' in html and '<main id="main"' in html


def test_navigation_shows_only_the_groups_a_role_may_open(web) -> None:
    labels = _nav_labels(web("doctor").get("/booking/my/").content.decode())
    assert "Reports" not in labels and "Marketing" not in labels
    assert labels[0] == "Today" or "Calendar" in labels


def test_navigation_is_translated(web) -> None:
    client = web("owner")
    html = client.get("/patients/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Сегодня" in _nav_labels(html) and "Настройки" in _nav_labels(html)


@pytest.fixture
def two_patients(org, branch):
    make_patient(org, branch=branch)
    make_patient(org, branch=branch, last_name="Petrova", first_name="Elena", phones=["+7 903 555 12 34"])


def test_patient_search_partial_returns_the_results_fragment_alone(web, two_patients) -> None:
    response = web("owner").get("/patients/", {"q": "petro"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith("<h1>") and "<html" not in body and 'id="cf-nav"' not in body
    results = body.split('<div id="patient-results">', 1)[1]
    assert "Petrova Elena" in results and "Ivanova Anna" not in results


def test_patient_search_page_and_history_restore_get_the_whole_page(web, two_patients) -> None:
    client = web("owner")
    full = client.get("/patients/", {"q": "petro"}).content.decode()
    assert full.startswith("<!doctype html>") and 'hx-select="#patient-results"' in full
    restored = client.get(
        "/patients/", {"q": "petro"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    ).content.decode()
    assert restored.startswith("<!doctype html>") and "Petrova Elena" in restored


def test_an_entry_without_a_group_lands_in_settings_and_the_longest_match_is_current(monkeypatch) -> None:
    class Config:
        nav = [
            ("home", "Home", "patients.view"),
            ("patients:list", "Patients", "patients.view", "patients"),
            ("patients:create", "New", "patients.edit", "patients"),
        ]

    monkeypatch.setattr(context_processors.apps, "get_app_configs", lambda: [Config()])
    groups = context_processors.nav_groups({"patients.view", "patients.edit"}, "/patients/new/")
    assert [(g.key, [(e.label, e.current) for e in g.entries]) for g in groups] == [
        ("patients", [("Patients", False), ("New", True)]),
        ("settings", [("Home", False)]),
    ]
    assert [g.key for g in context_processors.nav_groups({"patients.view"}, "/")] == ["patients", "settings"]

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from clinicflow.accounts.models import User
from clinicflow.accounts.roles import PERMISSIONS

# The navigation's groups, by task, in their order. An app's ``AppConfig.nav`` entry names its group
# as a fourth item: ``(url name, label, permission, group)``; an entry without one goes to Settings.
NAV_GROUPS: tuple[tuple[str, Any], ...] = (
    ("today", _("Today")),
    ("patients", _("Patients")),
    ("calendar", _("Calendar")),
    ("calls", _("Calls")),
    ("marketing", _("Marketing")),
    ("reports", _("Reports")),
    ("settings", _("Settings")),
)
DEFAULT_GROUP = "settings"


@dataclass
class NavEntry:
    href: str
    label: str
    current: bool = False


@dataclass
class NavGroup:
    key: str
    label: str
    entries: list[NavEntry] = field(default_factory=list)

    @property
    def current(self) -> bool:
        return any(e.current for e in self.entries)


def _nav_entries(perms: set[str]) -> list[tuple[str, NavEntry]]:
    """(group key, entry) for every ``AppConfig.nav`` entry the permissions allow, in app order."""
    entries: list[tuple[str, NavEntry]] = []
    for config in apps.get_app_configs():
        for item in getattr(config, "nav", ()):
            url_name, label, permission = item[0], item[1], item[2]
            group = item[3] if len(item) > 3 else DEFAULT_GROUP
            if permission not in perms:
                continue
            try:
                entries.append((group, NavEntry(reverse(url_name), str(label))))
            except NoReverseMatch:
                continue
    return entries


def _mark_current(entries: list[NavEntry], path: str) -> None:
    """The entry whose address is the longest prefix of the path is the current page."""
    matches = [e for e in entries if path == e.href or (e.href != "/" and path.startswith(e.href))]
    if matches:
        max(matches, key=lambda e: len(e.href)).current = True


def nav_groups(perms: set[str], path: str) -> list[NavGroup]:
    """The navigation grouped by task; groups with no entry for these permissions are left out."""
    found = _nav_entries(perms)
    _mark_current([e for _g, e in found], path)
    known = {key for key, _label in NAV_GROUPS}
    groups: list[NavGroup] = []
    for key, label in NAV_GROUPS:
        members = [e for g, e in found if g == key or (key == DEFAULT_GROUP and g not in known)]
        if members:
            groups.append(NavGroup(key, str(label), members))
    return groups


def is_partial(request: HttpRequest) -> bool:
    """An htmx request for part of a page: base.html then renders the page's content block alone
    (htmx's ``hx-select`` picks the part it swaps). A history restore gets the whole page."""
    headers = request.headers
    return headers.get("HX-Request") == "true" and headers.get("HX-History-Restore-Request") != "true"


def clinicflow(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    perms: set[str] = set()
    if isinstance(user, User) and user.is_authenticated:
        perms = {p for p in PERMISSIONS if user.has_perm_cf(p)}
    partial = is_partial(request)
    groups = nav_groups(perms, request.path) if perms and not partial else []
    return {
        "cf_partial": partial,
        "cf_perms": perms,
        "cf_org": getattr(request, "org", None),
        "cf_nav_groups": groups,
        "cf_nav": [(e.href, e.label) for g in groups for e in g.entries],
    }

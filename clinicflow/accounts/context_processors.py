from __future__ import annotations

from typing import Any

from django.apps import apps
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from clinicflow.accounts.models import User
from clinicflow.accounts.roles import PERMISSIONS


def _nav_for(perms: set[str]) -> list[tuple[str, str]]:
    """Navigation built from each app's ``AppConfig.nav``: [(url name, label, permission)]."""
    entries: list[tuple[str, str]] = []
    for config in apps.get_app_configs():
        for url_name, label, permission in getattr(config, "nav", ()):
            if permission in perms:
                try:
                    entries.append((reverse(url_name), str(label)))
                except NoReverseMatch:
                    continue
    return entries


def clinicflow(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    perms: set[str] = set()
    if isinstance(user, User) and user.is_authenticated:
        perms = {p for p in PERMISSIONS if user.has_perm_cf(p)}
    return {
        "cf_perms": perms,
        "cf_org": getattr(request, "org", None),
        "cf_nav": _nav_for(perms) if perms else [],
    }

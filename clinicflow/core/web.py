"""Helpers every page view shares: parse input, fetch through tenant selectors, render in the branch's zone.

A page view stays thin: it parses its input with these helpers (or a Django form), fetches objects
through a selector that takes the organisation (``get_or_404`` turns a selector's ``NotFound`` into a
404), calls one service and renders with ``render_in_zone``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from clinicflow.core.errors import DomainError, NotFound, ValidationFailed
from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import branch_find, branch_list, parse_uuid

T = TypeVar("T")


def uuid_or_404(value: object) -> uuid.UUID:
    """A UUID from a URL or form value; anything else is a 404 (an id that cannot exist)."""
    pk = parse_uuid(value)
    if pk is None:
        raise Http404
    return pk


def get_or_404(selector: Callable[..., T], **kwargs: Any) -> T:
    """Call a tenant selector (``selector(org=..., x_id=...)``); its ``NotFound`` becomes a 404."""
    try:
        return selector(**kwargs)
    except NotFound as exc:
        raise Http404 from exc


def branch_from_request(request: HttpRequest, org: Organization) -> Branch:
    """The branch named by ``?branch=`` (id or slug, GET or POST), else the first active one; 404 if none."""
    key = request.GET.get("branch") or request.POST.get("branch") or ""
    if key:
        branch = branch_find(org=org, key=key)
        if branch is None:
            raise Http404
        return branch
    branches = branch_list(org=org)
    if not branches:
        raise Http404
    return branches[0]


def parse_date(value: str | None, default: dt.date, name: str = "date") -> dt.date:
    """A ``YYYY-MM-DD`` value, ``default`` when empty; otherwise ``ValidationFailed`` naming the field."""
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationFailed.field(name, "must be a date as YYYY-MM-DD") from exc


def parse_period(
    request: HttpRequest, today: dt.date, *, days: int = 28, max_days: int = 366
) -> tuple[dt.date, dt.date]:
    """``?from=&to=`` dates; a bad or too-long period falls back to the last ``days`` days, with a message."""
    default_from = today - dt.timedelta(days=days - 1)
    try:
        d1 = parse_date(request.GET.get("to"), today, "to")
        d0 = parse_date(request.GET.get("from"), d1 - dt.timedelta(days=days - 1), "from")
    except ValidationFailed as exc:
        flash_error(request, exc)
        return default_from, today
    if d0 > d1 or (d1 - d0).days > max_days:
        d0 = d1 - dt.timedelta(days=days - 1)
    return d0, d1


def render_in_zone(
    request: HttpRequest,
    template: str,
    ctx: dict[str, Any],
    *,
    branch: Branch | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render with the branch's zone active, so every time on the page is on the branch's clock.
    The branch is ``branch=`` or the context's ``branch``; without one the page renders in UTC."""
    branch = branch if branch is not None else ctx.get("branch")
    if branch is None:
        return render(request, template, ctx, status=status)
    with timezone.override(branch.tz):
        return render(request, template, ctx, status=status)


def flash_error(request: HttpRequest, exc: DomainError) -> None:
    """Show a domain error's message at the top of the next page."""
    messages.error(request, str(exc.message))


def safe_next(request: HttpRequest, value: object) -> str:
    """A ``?next=`` (or Referer) target as a same-host relative path, or "" when it is anything else.

    Another host, another scheme (``javascript:``, ``data:``), a scheme-relative ``//host`` or a
    backslash trick is refused; a same-host absolute URL is reduced to its path and query."""
    url = str(value or "")
    if not url or any(ord(ch) < 32 or ch == "\\" for ch in url):
        return ""
    host = request.get_host()
    if not url_has_allowed_host_and_scheme(url, allowed_hosts={host}, require_https=request.is_secure()):
        return ""
    parts = urlsplit(url)
    if parts.netloc not in ("", host) or not parts.path.startswith("/") or parts.path.startswith("//"):
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")

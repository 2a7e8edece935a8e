"""The start page and ``GET /api/v1/home``: the same blocks for the caller's role (an owner may preview
another role's home with ``?as=frontdesk|doctor|marketer|owner``). Permission checks are on the callers:
``analytics.views.home`` (the page) and the API operation below."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from ninja import Router, Schema

from clinicflow.accounts.access import AuthedRequest
from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.accounts.models import User
from clinicflow.accounts.roles import Role
from clinicflow.analytics.home import KINDS, Home, home_for, home_kind
from clinicflow.analytics.home.marketer import MarketerHome
from clinicflow.core.api import ERRORS
from clinicflow.core.models import Organization

router = Router(tags=["home"])


def _home(request: HttpRequest, org: Organization, user: User) -> Home:
    kind = home_kind(user, (request.GET.get("as") or "")[:20])
    return home_for(org=org, user=user, kind=kind, now=timezone.now())


def home_page(request: AuthedRequest) -> HttpResponse:
    home = _home(request, request.org, request.user)
    marketer = home.data if isinstance(home.data, MarketerHome) else None
    return render(
        request,
        "analytics/home.html",
        {
            "home": home,
            "h": home.data,
            "chart_json": marketer.chart() if marketer and marketer.rows else None,
            "previews": KINDS if request.user.role == Role.OWNER else (),
        },
    )


class HomeOut(Schema):
    kind: str
    blocks: dict[str, Any]


@router.get("", response={200: HomeOut, **ERRORS})
@api_perm("patients.view")
def home(request: ApiRequest) -> dict[str, Any]:
    """The caller's start page as JSON: ``kind`` (owner, frontdesk, doctor or marketer, from the role; an
    owner may pass ``as`` to preview another) and its ``blocks``, times in each branch's zone."""
    return _home(request, request.org, request.auth).as_json()

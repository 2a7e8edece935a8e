"""Each role's start page (issue #13 "each role starts where its work is").

``home_for(org=, user=, kind=, now=)`` reads the blocks of one kind of home — ``frontdesk`` (today's
appointments per branch, callbacks, unconfirmed bookings, the waitlist's offers), ``doctor`` (my day, my
patients' open follow-ups), ``marketer`` (this month per channel, from the channel report) or ``owner``
(the essentials with a compact front desk and marketer's month; also the clinic manager's) — and both
the page and ``GET /api/v1/home`` render what it returns. Modules: ``common`` (branches, a branch's
today, an appointment row), one module per kind, ``views`` (the page and the API handler)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from clinicflow.accounts.models import User
from clinicflow.accounts.roles import Role
from clinicflow.analytics.home.doctor import DoctorHome, doctor_home
from clinicflow.analytics.home.frontdesk import FrontDeskHome, frontdesk_home
from clinicflow.analytics.home.marketer import MarketerHome, marketer_home
from clinicflow.analytics.home.owner import OwnerHome, owner_home
from clinicflow.core.models import Organization

KINDS = ("owner", "frontdesk", "doctor", "marketer")
KIND_OF_ROLE: dict[str, str] = {
    Role.OWNER: "owner",
    Role.MANAGER: "owner",
    Role.FRONTDESK: "frontdesk",
    Role.DOCTOR: "doctor",
    Role.MARKETER: "marketer",
}


def home_kind(user: User, preview: str = "") -> str:
    """The kind of home the user sees; an owner may preview another role's with ``preview``."""
    if preview and user.role == Role.OWNER and preview in KINDS:
        return preview
    return KIND_OF_ROLE.get(user.role, "owner")


@dataclass
class Home:
    kind: str
    data: OwnerHome | FrontDeskHome | DoctorHome | MarketerHome

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "blocks": self.data.as_json()}


def home_for(*, org: Organization, user: User, kind: str, now: dt.datetime) -> Home:
    data: OwnerHome | FrontDeskHome | DoctorHome | MarketerHome
    if kind == "frontdesk":
        data = frontdesk_home(org=org, user=user, now=now)
    elif kind == "doctor":
        data = doctor_home(org=org, user=user, now=now)
    elif kind == "marketer":
        data = marketer_home(org=org, user=user, now=now)
    else:
        data = owner_home(org=org, user=user, now=now)
    return Home(kind=kind, data=data)


__all__ = ["KINDS", "Home", "home_for", "home_kind"]

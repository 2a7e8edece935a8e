"""The bearer token's lookup (``api_token_find``): one hand-written statement that must read the token,
its user and their organisation exactly as the ORM reads them, and refuse what the ORM refuses."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, models
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinicflow.accounts.models import ApiToken, User
from clinicflow.accounts.selectors import api_token_find
from clinicflow.accounts.services import api_token_issue, api_token_revoke, api_token_touch
from clinicflow.core.models import Branch, Organization
from clinicflow.core.services import branch_create


def _values(obj: models.Model) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_the_token_its_user_and_organisation_are_read_as_the_orm_reads_them(
    users: dict[str, User], org: Organization
) -> None:
    Organization.objects.filter(pk=org.pk).update(name_i18n={"ru": "Клиника", "zh-hans": "诊所"})
    branch: Branch = branch_create(org=org, name="Main", slug="main", timezone="Europe/Moscow")
    user = users["doctor"]
    User.objects.filter(pk=user.pk).update(
        branch=branch, mfa_required=True, password_changed_at=timezone.now()
    )
    token, raw = api_token_issue(user=user, name="script")
    api_token_touch(org=org, token=token, now=timezone.now() - dt.timedelta(hours=1))

    with CaptureQueriesContext(connection) as ctx:
        found = api_token_find(raw=raw)
        assert found is not None
        user_found, org_found = found.user, found.user.organization
    assert len(ctx.captured_queries) == 1  # the user and organisation come with the token

    expected = ApiToken.objects.select_related("user", "user__organization").get(pk=token.pk)
    assert _values(found) == _values(expected)
    assert _values(user_found) == _values(expected.user)
    assert _values(org_found) == _values(expected.user.organization)
    assert org_found.name_i18n == {"ru": "Клиника", "zh-hans": "诊所"}  # JSON decoded, not text
    assert isinstance(found.pk, type(expected.pk)) and found.last_used_at is not None
    assert user_found.branch_id == branch.pk and user_found.has_perm_cf("patients.view")
    assert not found._state.adding and found._state.db == "default"


def test_an_unknown_token_is_none_and_a_revoked_one_is_refused(users: dict[str, User]) -> None:
    owner = users["owner"]
    _, raw = api_token_issue(user=owner)
    assert api_token_find(raw=raw + "x") is None
    assert api_token_find(raw="cf_not_a_token") is None
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/patients").status_code == 200
    assert api_token_revoke(user=owner, raw=raw) is True
    found = api_token_find(raw=raw)
    assert found is not None and not found.is_usable(timezone.now())
    assert client.get("/api/v1/patients").status_code == 401  # revocation takes effect at once
    assert client.get("/fhir/r4/Patient", HTTP_ACCEPT="application/fhir+json").status_code == 401


def test_a_deactivated_users_token_is_refused_at_once(users: dict[str, User]) -> None:
    _, raw = api_token_issue(user=users["frontdesk"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/patients").status_code == 200
    User.objects.filter(pk=users["frontdesk"].pk).update(is_active=False)  # behind the services' back
    assert client.get("/api/v1/patients").status_code == 401

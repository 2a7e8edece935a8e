"""Shared test fixtures: two organisations, one user per role, API and page clients.

Personas: ``owner``, ``manager``, ``marketer``, ``frontdesk``, ``doctor`` of organisation A
("Demo Aesthetic Clinic", slug demo) and ``outsider`` (the owner of organisation B, slug other).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import translation

from clinicflow.accounts.models import User
from clinicflow.accounts.roles import Role
from clinicflow.accounts.services import api_token_issue, user_create
from clinicflow.core.models import Branch, Organization, Region
from clinicflow.core.services import branch_create, organization_create

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _language_reset() -> Iterator[None]:
    """Each test starts and ends in the default language: a request with Accept-Language activates
    its language in the thread, which would otherwise carry over into the next test's commands."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def org(db: Any) -> Organization:
    return organization_create(
        name="Demo Aesthetic Clinic", slug="demo", country="RU", currency="RUB", data_region=Region.RU
    )


@pytest.fixture
def other_org(db: Any) -> Organization:
    return organization_create(
        name="Other Clinic", slug="other", country="CN", currency="CNY", data_region=Region.CN
    )


@pytest.fixture
def branch(org: Organization) -> Branch:
    return branch_create(org=org, name="Moscow", slug="moscow", timezone="Europe/Moscow", city="Moscow")


@pytest.fixture
def branch2(org: Organization) -> Branch:
    return branch_create(org=org, name="Novosibirsk", slug="novosibirsk", timezone="Asia/Novosibirsk")


@pytest.fixture
def other_branch(other_org: Organization) -> Branch:
    return branch_create(org=other_org, name="Shanghai", slug="main", timezone="Asia/Shanghai")


@pytest.fixture
def users(org: Organization, other_org: Organization) -> dict[str, User]:
    out = {}
    for role in Role.values:
        out[role] = user_create(
            org=org,
            actor=None,
            email=f"{role}@demo.test",
            password=PASSWORD,
            role=role,
            full_name=role.title(),
            validate=False,
        )
    out["outsider"] = user_create(
        org=other_org,
        actor=None,
        email="owner@other.test",
        password=PASSWORD,
        role=Role.OWNER,
        validate=False,
    )
    return out


@pytest.fixture
def api(users: dict[str, User]) -> Callable[[str], Client]:
    """``api("owner")`` -> a test client sending that persona's bearer token."""
    cache: dict[str, Client] = {}

    def make(persona: str) -> Client:
        if persona not in cache:
            _, raw = api_token_issue(user=users[persona])
            cache[persona] = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return cache[persona]

    return make


@pytest.fixture
def web(users: dict[str, User]) -> Callable[[str], Client]:
    """``web("frontdesk")`` -> a test client logged in to the pages as that persona."""

    def make(persona: str) -> Client:
        client = Client()
        client.force_login(users[persona], backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make


@contextlib.contextmanager
def module_data(django_db_blocker: Any) -> Iterator[None]:
    """Data a module's tests share (e.g. one simulation) that never outlives the module: written in a
    transaction rolled back when the module is done, so later modules see an empty database."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)

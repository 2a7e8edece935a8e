"""Fixtures of the feedback tests."""

from __future__ import annotations

from typing import Any

import pytest

from clinicflow.core.models import Branch, Organization
from clinicflow.feedback.tests.setup import Visit, make_visit


@pytest.fixture
def visit(org: Organization, branch: Branch, users: Any) -> Visit:
    return make_visit(org, branch, users)

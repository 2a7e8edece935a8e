"""Structural rules that every app must keep (SECURITY.md AC-01, AC-02)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver

from config.api import api

# Global tables: the tenant itself, framework tables, and the per-tenant chain head keyed by organisation.
GLOBAL_MODELS = {
    "core.organization",
    "core.auditchainhead",
    "auth.permission",
    "auth.group",
    "auth.group_permissions",
    "contenttypes.contenttype",
    "sessions.session",
    "axes.accessattempt",
    "axes.accessfailurelog",
    "axes.accesslog",
    "axes.accessattemptexpiration",
    "otp_totp.totpdevice",
}


def _tenant_models() -> Iterator[type[models.Model]]:
    for model in apps.get_models(include_auto_created=True):
        if model._meta.label_lower in GLOBAL_MODELS:
            continue
        yield model


def test_every_model_has_a_non_null_organization() -> None:
    missing = []
    for model in _tenant_models():
        try:
            field = model._meta.get_field("organization")
        except Exception:
            missing.append(model._meta.label_lower)
            continue
        if field.null or field.related_model._meta.label_lower != "core.organization":  # type: ignore[union-attr]
            missing.append(model._meta.label_lower)
    assert missing == []


def test_tenant_indexes_and_unique_constraints_start_with_organization() -> None:
    wrong = []
    for model in _tenant_models():
        for index in model._meta.indexes:
            if index.fields and index.fields[0] != "organization":
                wrong.append(f"{model._meta.label_lower} index {index.name}")
        for constraint in model._meta.constraints:
            fields = getattr(constraint, "fields", ())
            if fields and fields[0] != "organization":
                wrong.append(f"{model._meta.label_lower} constraint {constraint.name}")
        for field in model._meta.get_fields():
            if not isinstance(field, models.ForeignKey) or field.name == "organization":
                continue
            if model._meta.label_lower == "accounts.user":
                continue
            if field.db_index and not field.unique and not field.primary_key:
                wrong.append(
                    f"{model._meta.label_lower}.{field.name} has its own index (use an org-first index)"
                )
            if field.unique and not field.primary_key:
                wrong.append(
                    f"{model._meta.label_lower}.{field.name} is unique alone (use an org-first constraint)"
                )
    assert wrong == []


def test_every_tenant_table_is_reached_through_an_org_first_index_and_has_no_org_index_alone() -> None:
    """The organisation's own single-column index is gone (it duplicated the leading column of the
    org-first indexes and cost every insert), so each tenant table must have an org-first index or
    unique constraint — the one a query by organisation, or a check before deleting one, uses."""
    uncovered, alone = [], []
    for model in _tenant_models():
        field = model._meta.get_field("organization")
        if isinstance(field, models.ForeignKey) and field.db_index:
            alone.append(model._meta.label_lower)
        leads = [i for i in model._meta.indexes if i.fields and i.fields[0] == "organization"] + [
            c for c in model._meta.constraints if getattr(c, "fields", ()) and c.fields[0] == "organization"
        ]
        if not leads and not model._meta.auto_created:
            uncovered.append(model._meta.label_lower)
    assert alone == []
    assert uncovered == []


def test_primary_keys_are_globally_unique_uuids() -> None:
    wrong = [
        m._meta.label_lower
        for m in _tenant_models()
        if not m._meta.auto_created and not isinstance(m._meta.pk, models.UUIDField)
    ]
    assert wrong == []


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "api" or str(p.pattern).startswith("api/"):
                continue
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.callback


def test_every_page_declares_its_permission() -> None:
    undeclared = [
        route for route, view in _walk(get_resolver().url_patterns) if not hasattr(view, "cf_permission")
    ]
    assert undeclared == []


def test_every_api_operation_declares_its_permission() -> None:
    undeclared = []
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                if not hasattr(operation.view_func, "cf_permission"):
                    undeclared.append(f"{operation.methods} {prefix}{path}")
    assert undeclared == []

"""Access declarations every page and API operation carries (deny by default).

Permission checks themselves live in ``clinicflow.accounts.access`` (``@require_perm``) and
``clinicflow.accounts.api_auth`` (``@api_perm``); this module holds only the markers the layers
below accounts need: ``@public_view`` for the few pages that need no login, ``@api_public`` for the
public API operations. A meta-test walks the URL resolver and fails on any view without one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
PUBLIC = "__public__"


def public_view(view: F) -> F:
    view.cf_permission = PUBLIC  # type: ignore[attr-defined]  # a marker read by the meta-test
    return view


def api_public(func: F) -> F:
    func.cf_permission = PUBLIC  # type: ignore[attr-defined]  # a marker read by the meta-test
    return func


def declared_permission(view: Callable[..., Any]) -> str | None:
    return getattr(view, "cf_permission", None)

"""What every FHIR endpoint does around its handler: the bearer token (the REST API's own check),
the role's permission, JSON in and out, and every refusal as an ``OperationOutcome``."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from clinicflow.accounts.api_auth import ApiRequest, TokenAuth
from clinicflow.accounts.models import User
from clinicflow.accounts.roles import PERMISSIONS
from clinicflow.core.access import PUBLIC
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import DomainError
from clinicflow.core.models import AuditAction, AuditOutcome
from clinicflow.fhir.errors import FhirError, from_domain, invalid
from clinicflow.fhir.mapping.common import CONTENT_TYPE
from clinicflow.fhir.search import Page

Handler = Callable[..., HttpResponse]
H = TypeVar("H", bound=Handler)
MAX_BODY = 20 * 1024 * 1024  # a transaction Bundle of a few thousand resources
JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")
ACCEPTED = (*JSON_TYPES, "*/*", "application/*")


def respond(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")), status=status, content_type=CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def refuse(exc: FhirError) -> HttpResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="clinicflow-fhir"'} if exc.status == 401 else None
    return respond(exc.outcome(), exc.status, headers)


def _authenticate(request: HttpRequest) -> User:
    """The token's user (``request.org`` and ``request.api_user`` set by ``TokenAuth``), else 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise FhirError(401, "send Authorization: Bearer <token> (an API token of Clinicflow)")
    user = TokenAuth().authenticate(request, token.strip())
    if user is None:
        raise FhirError(401, "missing, invalid or expired token")
    return user


def _check_format(request: HttpRequest) -> None:
    fmt = request.GET.get("_format")
    if fmt is not None and fmt not in ("json", *JSON_TYPES):
        raise FhirError(406, "only JSON is served: _format=json or application/fhir+json")
    accept = request.headers.get("Accept", "")
    if accept and not any(a.split(";")[0].strip() in ACCEPTED for a in accept.split(",")):
        raise FhirError(406, "only application/fhir+json is served")


def read_json(request: HttpRequest) -> object:
    """The request body as JSON; 415 for another content type, 400 for what is not JSON."""
    if request.content_type not in JSON_TYPES:
        raise FhirError(415, "send the resource as application/fhir+json")
    if len(request.body) > MAX_BODY:
        raise FhirError(413, f"the body may be at most {MAX_BODY // (1024 * 1024)} MiB", code="too-costly")
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid("the body is not valid JSON") from exc


def require(request: ApiRequest, permission: str, object_type: str, object_id: object = "") -> None:
    """403 (audited, as ``@api_perm`` does) unless the token's role holds ``permission``."""
    user = request.api_user
    if user.has_perm_cf(permission):
        return
    audit_record(
        org=user.organization,
        actor=user,
        action=AuditAction.VIEW if request.method == "GET" else AuditAction.UPDATE,
        object_type=object_type,
        object_id=str(object_id)[:64],
        request=request,
        outcome=AuditOutcome.DENIED,
    )
    raise FhirError(403, f"your role may not do this ({permission})")


def fhir_endpoint(methods: dict[str, str | None], object_type: str) -> Callable[[H], H]:
    """A FHIR endpoint: ``methods`` maps each HTTP method it answers to the permission it needs
    (None: public, the CapabilityStatement). Bearer tokens only, never the session cookie: so the
    endpoint is exempt from CSRF checks (a browser never sends the token by itself)."""
    for permission in methods.values():
        if permission is not None and permission not in PERMISSIONS:
            raise KeyError(f"undeclared permission {permission!r}")

    def decorator(handler: H) -> H:
        @functools.wraps(handler)
        def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                method = request.method or ""
                if method == "HEAD":
                    method = "GET"
                if method not in methods:
                    raise FhirError(405, f"{request.method} is not supported here")
                _check_format(request)
                permission = methods[method]
                if permission is not None:
                    _authenticate(request)
                    require(
                        cast(ApiRequest, request), permission, object_type, next(iter(kwargs.values()), "")
                    )
                return handler(request, *args, **kwargs)
            except FhirError as exc:
                return refuse(exc)
            except DomainError as exc:
                return refuse(from_domain(exc))

        declared = sorted({p for p in methods.values() if p}) or [PUBLIC]
        view.cf_permission = declared[0] if len(declared) == 1 else ",".join(declared)  # type: ignore[attr-defined]
        view.csrf_exempt = True  # type: ignore[attr-defined]  # bearer tokens only (see the docstring)
        return cast(H, view)

    return decorator


def searchset(request: HttpRequest, resources: list[dict[str, Any]], page: Page) -> dict[str, Any]:
    """A ``searchset`` Bundle of one page (``resources`` holds up to ``page.count + 1``: one more
    tells that a next page exists), with its ``self`` and ``next`` links."""
    has_next = len(resources) > page.count
    shown = resources[: page.count]
    base = request.build_absolute_uri(reverse("fhir:root"))
    params = request.GET.copy()
    links = [{"relation": "self", "url": request.build_absolute_uri()}]
    if has_next:
        params["_offset"] = str(page.offset + page.count)
        params["_count"] = str(page.count)
        links.append(
            {"relation": "next", "url": f"{request.build_absolute_uri(request.path)}?{params.urlencode()}"}
        )
    if page.offset > 0:
        params["_offset"] = str(max(0, page.offset - page.count))
        params["_count"] = str(page.count)
        links.append(
            {
                "relation": "previous",
                "url": f"{request.build_absolute_uri(request.path)}?{params.urlencode()}",
            }
        )
    out: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "searchset",
        "link": links,
        "entry": [
            {"fullUrl": f"{base}{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in shown
        ],
    }
    if not has_next and (page.offset == 0 or shown):
        out["total"] = page.offset + len(shown)  # known exactly on the last page
    return out

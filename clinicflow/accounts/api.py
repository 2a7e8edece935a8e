"""Token API: issue and revoke bearer tokens."""

import datetime as dt

from django.contrib.auth import authenticate
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from clinicflow.accounts import mfa
from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.accounts.models import User
from clinicflow.accounts.services import api_token_issue, api_token_revoke, sign_in_event_record
from clinicflow.core.access import api_public
from clinicflow.core.api import ERRORS
from clinicflow.core.models import AuditAction

router = Router(tags=["auth"])


class TokenIn(Schema):
    email: str
    password: str
    otp: str = ""


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    expires_at: dt.datetime
    organization: str
    role: str


class RevokedOut(Schema):
    revoked: bool


@router.post("/token", auth=None, response={200: TokenOut, **ERRORS, 429: ERRORS[401]})
@api_public
def token_create(request: HttpRequest, data: TokenIn) -> TokenOut:
    """Exchange an e-mail and password for a bearer token (throttled like the login page)."""
    if len(data.email) > 254 or len(data.password) > 1024:
        raise HttpError(401, "invalid e-mail or password")
    user = authenticate(request, username=data.email.strip().lower(), password=data.password)
    if getattr(request, "axes_locked_out", False):
        raise HttpError(429, "too many failed attempts; try again later")
    if not isinstance(user, User) or not user.is_active:
        raise HttpError(401, "invalid e-mail or password")
    if mfa.mfa_required_for(user):
        passed = mfa.code_valid(mfa.confirmed_device(user), data.otp)
        sign_in_event_record(
            user=user, action=AuditAction.LOGIN, request=request, ok=passed, object_type="mfa_code"
        )
        if not passed:
            raise HttpError(401, "a valid one-time code from the authenticator app is required (field otp)")
    token, raw = api_token_issue(user=user, name="api")
    return TokenOut(
        token=raw, expires_at=token.expires_at, organization=user.organization.slug, role=user.role
    )


@router.delete("/token", response={200: RevokedOut, **ERRORS})
@api_perm("patients.view")
def token_revoke(request: ApiRequest) -> RevokedOut:
    """Revoke the token used for this request."""
    header = request.headers.get("Authorization", "")
    raw = header.split(" ", 1)[1].strip() if " " in header else ""
    return RevokedOut(revoked=api_token_revoke(user=request.auth, raw=raw, request=request))

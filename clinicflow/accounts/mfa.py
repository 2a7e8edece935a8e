"""Two-factor authentication (TOTP, django-otp) for staff who can see patient data (AU-03).

Required when ``settings.CLINICFLOW["MFA_REQUIRED"]`` is on (the production default) or the user's
``mfa_required`` flag is set. A signed-in user who must use MFA and has not passed it in this
session is sent to enrol (first time) or to enter a code. Codes are single-use: django-otp's
TOTPDevice remembers the last accepted time step.

Once a user has a confirmed device, replacing or removing it, and changing the password, need a
session that has passed the second factor (``step_up_target``) and the password again.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinicflow.accounts.models import User
from clinicflow.accounts.services import mfa_device_confirm, sign_in_event_record
from clinicflow.core.models import AuditAction

EXEMPT_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/api/", "/healthz", "/book/", "/hooks/", "/t/")


def mfa_required_for(user: User) -> bool:
    return bool(settings.CLINICFLOW.get("MFA_REQUIRED")) or user.mfa_required


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_device(user: User) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def session_verified(user: User) -> bool:
    """Whether this request's session passed the second factor (django-otp's OTPMiddleware sets
    ``is_verified`` on the user)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified()) if callable(is_verified) else False


def step_up_target(user: User) -> str | None:
    """Where to send a session that may not yet change credentials: the code page when the user has
    a second factor this session has not passed, enrolment when one is required and missing."""
    if confirmed_device(user) is not None:
        return None if session_verified(user) else "accounts:mfa_verify"
    return "accounts:mfa_setup" if mfa_required_for(user) else None


def code_valid(device: TOTPDevice | None, token: str) -> bool:
    """Whether ``token`` is a fresh six-digit code of ``device`` (single use, throttled)."""
    token = (token or "").strip().replace(" ", "")
    return device is not None and token.isdigit() and len(token) == 6 and bool(device.verify_token(token))


def verify(request: HttpRequest, user: User, token: str, *, enrolling: bool = False) -> bool:
    """Check a code and, when it passes, mark the session as having passed the second factor. Every
    check is audited (``login`` of an ``mfa_code``, ``ok`` or ``failed``; never the code)."""
    device = pending_device(user) if enrolling else confirmed_device(user)
    passed = code_valid(device, token)
    sign_in_event_record(
        user=user, action=AuditAction.LOGIN, request=request, ok=passed, object_type="mfa_code"
    )
    if not passed or device is None:
        return False
    if enrolling:
        mfa_device_confirm(user=user, device=device, request=request)
    otp_login(request, device)
    return True


def qr_svg_data_uri(device: TOTPDevice) -> str:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buf = io.BytesIO()
    image.save(buf)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


class MfaEnforcementMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            isinstance(user, User)
            and user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
            and mfa_required_for(user)
            and not user.is_verified()  # type: ignore[attr-defined]  # set on the user by django-otp's OTPMiddleware
        ):
            target = "accounts:mfa_verify" if confirmed_device(user) else "accounts:mfa_setup"
            return redirect(target)
        return self.get_response(request)

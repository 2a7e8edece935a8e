from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

SESSION_KEY = "cf_last_seen"
STARTED_KEY = "cf_started"


def stamp_session_start(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    """The absolute lifetime counts from the login (connected to ``user_logged_in`` in apps.py)."""
    if request is not None and hasattr(request, "session"):
        request.session[STARTED_KEY] = time.time()


class SessionIdleTimeoutMiddleware:
    """Log the user out after SESSION_IDLE_TIMEOUT_SECONDS without a request, and in any case
    SESSION_ABSOLUTE_SECONDS after the login: activity never extends that (Django's own expiry
    slides with every save, so it is not relied on). A session from before this rule starts its
    clock at its next request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            last = request.session.get(SESSION_KEY)
            started = float(request.session.setdefault(STARTED_KEY, now))
            idle = last is not None and now - float(last) > settings.SESSION_IDLE_TIMEOUT_SECONDS
            if idle or now - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                return redirect(f"{settings.LOGIN_URL_PATH}?next={request.path}&expired=1")
            request.session[SESSION_KEY] = now
        return self.get_response(request)

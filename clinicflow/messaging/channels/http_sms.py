"""A generic JSON-over-HTTP SMS provider.

``POST <SMS_PROVIDER_URL>`` with ``Authorization: Bearer <SMS_PROVIDER_TOKEN>``,
``Idempotency-Key: <message id>`` and the JSON body ``{"to", "text", "idempotency_key"}``. A 2xx
answer with ``{"id": "..."}`` (or ``message_id``) is success; 5xx, 429, timeouts and connection
errors are temporary; any other 4xx (and 3xx: redirects are not followed) is permanent.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from clinicflow.messaging.channels.base import PermanentFailure, SmsProvider, TemporaryFailure


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class HttpJsonSmsProvider(SmsProvider):
    name = "http_json"

    def __init__(self, *, url: str, token: str, region: str = "OTHER", timeout: float = 15.0) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("SMS_PROVIDER_URL must be an http(s) URL")
        self.url = url
        self._token = token
        self.region = region.upper() or "OTHER"
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect())

    def send(self, to_e164: str, text: str, idempotency_key: str) -> str:
        body = json.dumps({"to": to_e164, "text": text, "idempotency_key": idempotency_key}).encode()
        request = urllib.request.Request(  # noqa: S310 -- scheme checked in __init__
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Authorization": f"Bearer {self._token}",
                "Idempotency-Key": idempotency_key,
                "User-Agent": "Clinicflow-messaging/1",
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw = response.read(65536)
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
            if status >= 500 or status == 429:
                raise TemporaryFailure(f"SMS provider answered HTTP {status}") from None
            raise PermanentFailure(f"SMS provider refused the message: HTTP {status}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TemporaryFailure(f"SMS provider unreachable: {type(reason).__name__}") from None
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            data = {}
        provider_id = ""
        if isinstance(data, dict):
            provider_id = str(data.get("id") or data.get("message_id") or "")
        return provider_id[:200] or idempotency_key

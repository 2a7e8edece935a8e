"""One decorator for the money-moving API calls: the ``Idempotency-Key`` header (Stripe's rules).

A handler decorated with ``@idempotent_op()`` does its checks first (the object exists in the
caller's organisation, the caller may change it: a 404 or 403 there is never stored under the key),
then returns ``Once(payload, run)``: the request's body as the key's fingerprint sees it, and the work.
The decorator then checks the header (missing or malformed: 422 naming ``Idempotency-Key``) and runs
``run`` through ``services.idempotency.idempotent``: once per (organisation, key); the same key with
the same request (method, path, payload) replays the first answer, status and body; the same key with
another request is a 409. ``run`` returns the body (a dict) or ``(status, body)``; the body is stored
as plain JSON (ids and moments as ISO text) and answered with the decorator's ``status``."""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, ParamSpec, cast

from ninja import Header
from ninja.responses import Status

from clinicflow.accounts.api_auth import ApiRequest
from clinicflow.ledger.services.idempotency import HEADER, clean_key, fingerprint, idempotent

KEY_DOC = "A unique key per money-moving request (at most 255 ASCII characters); a retry sends the same."
IdemKey = Annotated[str | None, Header(alias=HEADER, description=KEY_DOC)]
KEY_PARAM = "idempotency_key"

P = ParamSpec("P")


@dataclass(frozen=True)
class Once:
    """What a decorated handler returns: its request's payload (fingerprinted) and the work."""

    payload: dict[str, Any]
    run: Callable[[], Any]


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    return str(value)


def as_json(body: dict[str, Any]) -> dict[str, Any]:
    """The body as the key row stores (and replays) it: plain JSON values."""
    out: dict[str, Any] = json.loads(json.dumps(body, default=_plain))
    return out


def idempotent_op(
    status: int = 201,
) -> Callable[[Callable[P, Once]], Callable[P, Status[dict[str, Any]]]]:
    """Run the handler's work once per ``Idempotency-Key`` (see the module); the handler declares
    the header as its ``idempotency_key: IdemKey = None`` parameter."""

    def decorate(handler: Callable[P, Once]) -> Callable[P, Status[dict[str, Any]]]:
        @functools.wraps(handler)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> Status[dict[str, Any]]:
            request = cast(ApiRequest, args[0])
            once = handler(*args, **kwargs)  # the checks that come before the key
            key = clean_key(kwargs.get(KEY_PARAM))

            def run() -> tuple[int, dict[str, Any]]:
                result = once.run()
                code, body = result if isinstance(result, tuple) else (status, result)
                return int(code), as_json(body)

            answered, body = idempotent(
                org=request.org,
                key=key,
                request_fingerprint=fingerprint(request.method or "POST", request.path, once.payload),
                run=run,
            )
            return Status(answered, body)

        return wrapped

    return decorate


__all__ = ["HEADER", "IdemKey", "Once", "as_json", "idempotent_op"]

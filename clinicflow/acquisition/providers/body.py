"""Reading a webhook delivery's raw body: its media type, the size limit and the JSON/form parse.

Below the view so the webhook and the dead-letter replay share one parser."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

MAX_BODY = 256 * 1024
JSON_TYPES = ("application/json", "text/json")
FORM_TYPES = ("application/x-www-form-urlencoded",)
MAX_DEPTH = 32


class PayloadProblem(Exception):
    """The body cannot be read: ``status`` is the HTTP answer (400, 413 or 415)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def storable(value: Any, depth: int = 0) -> bool:
    """At most ``MAX_DEPTH`` levels of nesting, and no NUL character or unpaired surrogate in any string
    of a parsed body (PostgreSQL's text and jsonb refuse both, and no provider sends them)."""
    if isinstance(value, str):
        return "\x00" not in value and (value.isascii() or not _SURROGATE.search(value))
    if depth >= MAX_DEPTH:
        return not isinstance(value, dict | list)
    if isinstance(value, dict):
        return all(storable(k, depth + 1) and storable(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(storable(v, depth + 1) for v in value)
    return True


_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    kind = media_type(content_type)
    if kind in JSON_TYPES:
        try:
            data = json.loads(body.decode("utf-8"))
        except (ValueError, RecursionError) as exc:  # also too deep, or an integer of over 4300 digits
            raise PayloadProblem(400, f"invalid JSON: {str(exc)[:200]}") from exc
        if not isinstance(data, dict):
            raise PayloadProblem(400, "the JSON body must be an object")
    elif kind in FORM_TYPES:
        try:
            data = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
        except UnicodeDecodeError as exc:
            raise PayloadProblem(400, "the form body is not UTF-8") from exc
    else:
        raise PayloadProblem(
            415, "Content-Type must be application/json or application/x-www-form-urlencoded"
        )
    if not storable(data):
        raise PayloadProblem(
            400, f"the body nests deeper than {MAX_DEPTH} levels or holds a NUL or an unpaired surrogate"
        )
    return data

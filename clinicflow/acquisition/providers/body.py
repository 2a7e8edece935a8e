"""Reading a webhook delivery's raw body: its media type, the size limit and the JSON/form parse.

Below the view so the webhook and the dead-letter replay share one parser."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

MAX_BODY = 256 * 1024
JSON_TYPES = ("application/json", "text/json")
FORM_TYPES = ("application/x-www-form-urlencoded",)


class PayloadProblem(Exception):
    """The body cannot be read: ``status`` is the HTTP answer (400, 413 or 415)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    kind = media_type(content_type)
    if kind in JSON_TYPES:
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PayloadProblem(400, f"invalid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise PayloadProblem(400, "the JSON body must be an object")
        return data
    if kind in FORM_TYPES:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError as exc:
            raise PayloadProblem(400, "the form body is not UTF-8") from exc
        return dict(pairs)
    raise PayloadProblem(415, "Content-Type must be application/json or application/x-www-form-urlencoded")

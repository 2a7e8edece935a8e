"""The file names an upload was sent with, before Django cut them down.

Django's multipart parser keeps only the last part of a file name (``../../x.jpg`` becomes ``x.jpg``),
which is safe, but the photo upload refuses such a name outright (issue #14: a path-traversal file
name is refused with a 422). ``UploadNamesMiddleware`` makes the request's parser remember each name
as sent (``raw_name``); nothing else about parsing changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParser
from django.utils.datastructures import ImmutableList

_ATTR = "cf_upload_names"


class _NameKeepingParser(MultiPartParser):
    def __init__(self, *args: Any, names: list[tuple[str, str | None]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._names = names

    def sanitize_file_name(self, file_name: str) -> str | None:
        cut: str | None = super().sanitize_file_name(file_name)
        self._names.append((file_name, cut))
        return cut


class UploadNamesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        names: list[tuple[str, str | None]] = []
        setattr(request, _ATTR, names)

        def parse_file_upload(meta: Any, post_data: Any) -> Any:
            request.upload_handlers = ImmutableList(
                request.upload_handlers, warning="upload handlers are set"
            )
            parser = _NameKeepingParser(
                meta, post_data, request.upload_handlers, request.encoding, names=names
            )
            return parser.parse()

        request.parse_file_upload = parse_file_upload  # type: ignore[method-assign,assignment]
        return self.get_response(request)


def raw_name(request: HttpRequest, name: str | None) -> str:
    """The name the upload now called ``name`` was sent with (the first such file)."""
    for sent, cut in getattr(request, _ATTR, []):
        if cut == name:
            return str(sent)
    return name or ""

"""Shared API plumbing: the error shape and paging (token auth and ``@api_perm`` are in accounts.api_auth)."""

from typing import Generic, TypeVar

from ninja import Schema
from ninja.errors import HttpError

T = TypeVar("T")


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, list[str]]


class ErrorOut(Schema):
    error: ErrorDetail


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class Page(Schema, Generic[T]):
    count: int
    limit: int
    offset: int
    items: list[T]


def bad_request(message: str) -> HttpError:
    return HttpError(400, message)

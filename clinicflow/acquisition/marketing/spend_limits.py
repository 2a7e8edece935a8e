"""Limits of an ad spend file beyond its size in bytes: its rows, and for an XLSX (a zip, where a few MB
can unpack to gigabytes) the unpacked size of its members, checked before the workbook is opened.

Both are settings so that deployments (and tests) can lower them: ``SPEND_IMPORT_MAX_ROWS`` and
``SPEND_IMPORT_MAX_UNPACKED_BYTES``.
"""

from __future__ import annotations

import io
import zipfile

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

MAX_ROWS = 100_000
MAX_UNPACKED_BYTES = 50 * 1024 * 1024


def max_rows() -> int:
    return int(getattr(settings, "SPEND_IMPORT_MAX_ROWS", MAX_ROWS))


def max_unpacked_bytes() -> int:
    return int(getattr(settings, "SPEND_IMPORT_MAX_UNPACKED_BYTES", MAX_UNPACKED_BYTES))


def unpacked_problem(data: bytes) -> str | None:
    """Why this XLSX may not be opened (not a zip, or unpacking to more than the limit), else None.
    The sizes are the ones the zip declares; ``zipfile`` never inflates a member beyond its own."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        return str(_("This is not a readable XLSX workbook."))
    limit = max_unpacked_bytes()
    if unpacked > limit:
        return str(_("The workbook unpacks to more than %(size)s.") % {"size": filesizeformat(limit)})
    return None

"""Files written while a request runs, when the disk is full: nothing partial is left behind.

Two places write an upload to disk: Django's upload handler, for a file larger than
``FILE_UPLOAD_MAX_MEMORY_SIZE`` (a temporary file in ``FILE_UPLOAD_TEMP_DIR``), and a view that keeps
the file for a later step (``write_new_file``). A full disk (``ENOSPC``), a file-size limit
(``EFBIG``) or a quota (``EDQUOT``) in either removes the part written; the view then shows
``DISK_FULL_MESSAGE`` as a form error (``upload_disk_full`` tells it the handler gave up).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from pathlib import Path
from typing import Any, NoReturn

from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})
DISK_FULL_MESSAGE = _("The server's disk is full; nothing was imported. Please try again later.")
_FLAG = "cf_upload_disk_full"


class DiskFull(Exception):
    """A write failed because the disk (or the process's file-size limit) is full; nothing was kept."""


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or an exception it was raised from) is a full disk."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DiskFull) or (
            isinstance(current, OSError) and current.errno in DISK_FULL_ERRNOS
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def write_new_file(path: Path, data: bytes) -> None:
    """Write ``data`` to the new file ``path`` whole or not at all: into a hidden name beside it,
    flushed to disk, then renamed. On any failure the partial file is removed; ``DiskFull`` when the
    disk is full (other errors are raised as they are)."""
    partial = path.with_name(f".{secrets.token_hex(8)}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        if is_disk_full(exc):
            raise DiskFull(str(exc)) from exc
        raise


class DiskFullSafeUploadHandler(TemporaryFileUploadHandler):
    """Django's temporary-file upload handler that survives a full disk: the temporary file is
    removed, the rest of the body is read and dropped, and the request is marked
    (``upload_disk_full``) so the view can say so; the form then has no file."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().new_file(*args, **kwargs)
        except OSError as exc:
            self._give_up(exc)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        try:
            super().receive_data_chunk(raw_data, start)
        except OSError as exc:
            self._give_up(exc)
        return None

    def file_complete(self, file_size: int) -> Any:
        try:
            return super().file_complete(file_size)  # seeks: flushes the last buffered bytes
        except OSError as exc:
            self._give_up(exc)

    def _give_up(self, exc: OSError) -> NoReturn:
        if not is_disk_full(exc):
            raise exc
        upload = getattr(self, "file", None)
        if upload is not None:
            path = upload.temporary_file_path()
            with contextlib.suppress(OSError):
                upload.close()  # flushing again may fail; the descriptor is closed all the same
            with contextlib.suppress(OSError):
                os.remove(path)
            del self.file
        if self.request is not None:
            setattr(self.request, _FLAG, True)
        raise StopUpload(connection_reset=False) from exc


def upload_disk_full(request: HttpRequest) -> bool:
    """Whether an upload in this request was dropped because the disk is full."""
    return bool(getattr(request, _FLAG, False))

"""Where an uploaded spend file waits between upload, preview and save.

The file is kept in ``MEDIA_ROOT/tmp/spend_import`` under a random name; the page keeps only a signed
token (organisation, user, file name) in the user's session, so the parsed rows are always re-read
from the stored file, never from anything the browser posts back. Files older than a day are removed.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext_lazy as _

from clinicflow.acquisition.marketing.spend_import import EXTENSIONS, FileProblem
from clinicflow.core.models import Organization
from clinicflow.core.uploads import DISK_FULL_MESSAGE, DiskFull, write_new_file

KEEP_SECONDS = 24 * 3600
SALT = "clinicflow.acquisition.spend_import"
_NAME_RE = re.compile(r"^[0-9a-f]{32}\.(csv|xlsx)$")


@dataclass(frozen=True)
class StoredFile:
    path: Path
    ext: str
    filename: str


def tmp_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "tmp" / "spend_import"


def tmp_cleanup(now: float | None = None) -> int:
    """Delete uploads older than 24 hours. Returns how many were removed."""
    now = now or time.time()
    removed = 0
    folder = tmp_dir()
    if not folder.is_dir():
        return 0
    for path in folder.iterdir():
        if _NAME_RE.match(path.name) and now - path.stat().st_mtime > KEEP_SECONDS:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def tmp_store(*, org: Organization, user_id: object, data: bytes, ext: str, filename: str) -> str:
    """Keep an upload under a random name; returns a signed token naming its owner."""
    if ext not in EXTENSIONS:
        raise FileProblem(str(_("Upload a .csv or .xlsx file.")))
    tmp_cleanup()
    name = f"{secrets.token_hex(16)}.{ext}"
    try:  # whole or not at all: a full disk leaves no partial file
        write_new_file(tmp_dir() / name, data)
    except DiskFull as exc:
        raise FileProblem(str(DISK_FULL_MESSAGE)) from exc
    return signing.dumps({"n": name, "o": str(org.pk), "u": str(user_id), "f": filename[:100]}, salt=SALT)


def tmp_open(*, org: Organization, user_id: object, token: str) -> StoredFile | None:
    """The stored upload this token names, if it is the same organisation's and user's and not expired."""
    try:
        data = signing.loads(token, salt=SALT, max_age=KEEP_SECONDS)
    except signing.BadSignature:
        return None
    name = str(data.get("n", ""))
    if data.get("o") != str(org.pk) or data.get("u") != str(user_id) or not _NAME_RE.match(name):
        return None
    path = tmp_dir() / name
    if not path.is_file():
        return None
    return StoredFile(path=path, ext=name.rsplit(".", 1)[1], filename=str(data.get("f", "")))


def tmp_delete(stored: StoredFile) -> None:
    stored.path.unlink(missing_ok=True)

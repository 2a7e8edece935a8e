"""Where clinical photos are kept: a storage of their own (``STORAGES["clinical_photos"]``), never
MEDIA. The default keeps them on the local disk under ``var/private/photos`` (``CLINICAL_PHOTO_ROOT``),
written whole or not at all (``clinicflow.core.uploads.write_new_file``: a full disk leaves no partial
file and raises ``DiskFull``), and has no URL: a photo is served only by the authorising view.
``CLINICAL_PHOTO_STORAGE_BACKEND`` names another Django storage class (S3-compatible object storage
through django-storages' ``storages.backends.s3.S3Storage``, with its options from the environment).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from django.core.files.storage import FileSystemStorage, Storage, storages

from clinicflow.core.uploads import DiskFull, write_new_file

ALIAS = "clinical_photos"
__all__ = ["ALIAS", "DiskFull", "PrivateFileStorage", "photo_storage"]


class PrivateFileStorage(FileSystemStorage):
    """Local disk without a public URL; each file is written in one piece or not at all."""

    def url(self, name: str | None) -> str:
        raise NotImplementedError("clinical photos have no public URL; use the photo image view")

    def _save(self, name: str, content: IO[Any]) -> str:
        path = Path(self.path(name))
        if path.exists():
            raise FileExistsError(name)
        content.seek(0)
        write_new_file(path, content.read())
        return name


def photo_storage() -> Storage:
    return storages[ALIAS]

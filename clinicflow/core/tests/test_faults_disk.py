"""The disk full during an upload (the ad spend import): a clear form error, no partial file, no row.

The disk is really full, not mocked: a 64 KiB tmpfs nearly filled with ballast (ENOSPC from the kernel;
needs the right to mount, which root in CI has), or the process's file-size limit
(``RLIMIT_FSIZE`` with SIGXFSZ ignored: EFBIG from the kernel) while the request runs. Two writes
are covered: Django's temporary file for an upload over ``FILE_UPLOAD_MAX_MEMORY_SIZE``, and the
import's own copy of a small upload kept between the steps (``spend_uploads.tmp_store``)."""

from __future__ import annotations

import contextlib
import errno
import resource
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from clinicflow.acquisition import defaults
from clinicflow.acquisition.marketing import spend_uploads
from clinicflow.acquisition.marketing.views import SESSION_KEY
from clinicflow.acquisition.models import AdSpend
from clinicflow.core.uploads import DiskFull, write_new_file

pytestmark = pytest.mark.django_db

MESSAGE = "The server&#x27;s disk is full; nothing was imported."
ROW = "2025-03-02;Search ads;Brand;99.99;10;1\n"


@dataclass
class FullDisk:
    root: Path
    media: Path
    uploads: Path
    full: Callable[[], contextlib.AbstractContextManager[None]]


def _mount_tmpfs(where: Path) -> bool:
    where.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(where)],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _fill(disk: Path, leave: int) -> None:
    """Write ballast until only about ``leave`` bytes are free."""
    with (disk / "ballast").open("wb", buffering=0) as out:
        block = b"\0" * 4096
        try:
            while True:
                out.write(block)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    ballast = (disk / "ballast").stat().st_size
    with (disk / "ballast").open("r+b") as out:
        out.truncate(max(ballast - leave, 0))


@contextlib.contextmanager
def _file_size_limit(limit: int) -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of the signal's kill
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


@pytest.fixture(params=["tmpfs", "rlimit"])
def disk(request: Any, tmp_path: Path, settings: Any) -> Iterator[FullDisk]:
    root = tmp_path / "disk"
    mounted = False
    if request.param == "tmpfs":
        mounted = _mount_tmpfs(root)
        if not mounted:
            pytest.skip("cannot mount a tmpfs here (not root, or no mount namespace rights)")
        full: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext
    else:
        root.mkdir()

        def full() -> contextlib.AbstractContextManager[None]:
            return _file_size_limit(16 * 1024)

    media, uploads = root / "media", root / "uploads"
    media.mkdir()
    uploads.mkdir()
    settings.MEDIA_ROOT = media
    settings.FILE_UPLOAD_TEMP_DIR = str(uploads)
    try:
        if mounted:
            _fill(root, leave=16 * 1024)
        yield FullDisk(root, media, uploads, full)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(root)], check=False, timeout=30)


@pytest.fixture
def owner(web: Any, org: Any) -> Any:
    defaults.channels_ensure(org=org)
    return web("owner")


def _upload(client: Any, name: str, data: bytes) -> Any:
    return client.post("/acquisition/spend/import/", {"file": SimpleUploadedFile(name, data)})


def test_a_large_upload_written_to_a_full_disk_gets_a_form_error_and_leaves_nothing(
    disk: FullDisk, owner: Any, settings: Any
) -> None:
    big = ("date;channel;campaign;spend;impressions;clicks\n" + ROW * 80_000).encode()
    assert len(big) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE  # Django streams it to a temporary file
    with disk.full():
        response = _upload(owner, "big.csv", big)
    assert response.status_code == 422
    assert MESSAGE in response.content.decode()
    assert b"This field is required" not in response.content
    assert not list(disk.uploads.iterdir())  # Django's partial temporary file is gone
    assert SESSION_KEY not in owner.session  # nothing to go on with
    assert AdSpend.objects.count() == 0


def test_a_small_upload_kept_for_the_next_step_on_a_full_disk_gets_a_form_error_and_no_partial_file(
    disk: FullDisk, owner: Any, settings: Any
) -> None:
    small = ("date;channel;campaign;spend;impressions;clicks\n" + ROW * 1_000).encode()  # ~40 KB
    assert len(small) < settings.FILE_UPLOAD_MAX_MEMORY_SIZE  # held in memory, then stored by the view
    with disk.full():
        response = _upload(owner, "small.csv", small)
    assert response.status_code == 422
    assert MESSAGE in response.content.decode()
    folder = spend_uploads.tmp_dir()
    assert not folder.exists() or list(folder.iterdir()) == []  # no partial copy, no hidden .part
    assert not list(disk.uploads.iterdir())
    assert SESSION_KEY not in owner.session
    assert AdSpend.objects.count() == 0


def test_the_import_goes_on_once_there_is_room_again(disk: FullDisk, owner: Any) -> None:
    small = ("date;channel;campaign;spend;impressions;clicks\n" + ROW * 1_000).encode()
    with disk.full():
        assert _upload(owner, "small.csv", small).status_code == 422
    (disk.root / "ballast").unlink(missing_ok=True)  # the operator frees space
    response = _upload(owner, "small.csv", small)
    assert response.status_code == 302
    assert len(list(spend_uploads.tmp_dir().iterdir())) == 1


def test_write_new_file_keeps_nothing_when_the_disk_fills(disk: FullDisk) -> None:
    target = disk.media / "kept.bin"
    with disk.full(), pytest.raises(DiskFull):
        write_new_file(target, b"x" * 64 * 1024)
    assert list(disk.media.iterdir()) == []
    write_new_file(disk.media / "small.bin", b"ok")  # a write that fits is kept whole
    assert (disk.media / "small.bin").read_bytes() == b"ok"

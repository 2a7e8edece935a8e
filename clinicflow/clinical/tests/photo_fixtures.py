"""Files for the photo tests: real images made with Pillow (one with GPS EXIF, one HEIC) and the
hostile uploads the issue lists (renamed, polyglot, bomb, truncated, SVG, path-traversal name)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from pillow_heif import register_heif_opener

register_heif_opener()


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), colour: str = "teal") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format=fmt)
    return buf.getvalue()


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (80, 60), "orange")
    exif = image.getexif()
    exif[ExifTags.Base.Make] = "PhoneCam"
    exif[ExifTags.Base.DateTimeOriginal] = "2026:12:01 10:00:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (55.0, 45.0, 21.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (37.0, 37.0, 4.0)
    buf = io.BytesIO()
    image.save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return buf.getvalue()


def png_bomb(side: int = 30_000) -> bytes:
    """A real PNG of side × side one-bit pixels: about 100 KB that decodes to ``side``² pixels."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 200
    + b"This program cannot be run"
)

# (name, data, the error code that names the problem)
REFUSALS: dict[str, tuple[str, bytes, str]] = {
    "png_renamed_exe": ("photo.exe", image_bytes("PNG"), "name_mismatch"),
    "exe_renamed_jpg": ("photo.jpg", EXE, "unsupported_type"),
    "jpeg_zip_polyglot": ("photo.jpg", image_bytes() + zip_bytes(), "polyglot"),
    "jpeg_html_polyglot": (
        "photo.jpg",
        image_bytes() + b"<html><script>alert(1)</script></html>",
        "polyglot",
    ),
    "png_zip_polyglot": ("photo.png", image_bytes("PNG") + zip_bytes(), "polyglot"),
    "decompression_bomb": ("photo.png", png_bomb(), "too_many_pixels"),
    "truncated_jpeg": ("photo.jpg", image_bytes(size=(640, 480))[:1500], "truncated_image"),
    "truncated_png": ("photo.png", image_bytes("PNG", size=(300, 200))[:200], "truncated_image"),
    "svg": ("photo.svg", SVG, "unsupported_type"),
    "svg_renamed_jpg": ("photo.jpg", SVG, "unsupported_type"),
    "path_traversal_name": ("../../x.jpg", image_bytes(), "bad_file_name"),
    "windows_path_name": ("..\\..\\x.jpg", image_bytes(), "bad_file_name"),
    "empty": ("photo.jpg", b"", "empty_file"),
}


def multipart(
    fields: dict[str, str], name: str, data: bytes, content_type: str = "image/jpeg"
) -> tuple[bytes, str]:
    """A multipart body sent as is (the test client would cut the file name to its last part)."""
    boundary = "----cfphotoboundary7MA4YWxkTrZu0gW"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def photo_root(settings: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The private photo storage in a temporary folder for the test."""
    root = tmp_path / "private-photos"
    storages = dict(settings.STORAGES)  # type: ignore[attr-defined]
    storages["clinical_photos"] = {
        "BACKEND": "clinicflow.clinical.storage.PrivateFileStorage",
        "OPTIONS": {"location": str(root)},
    }
    settings.STORAGES = storages  # type: ignore[attr-defined]
    return root

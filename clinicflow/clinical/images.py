"""The upload validator of clinical photos (SECURITY.md FI-01, FI-02).

A photo is accepted only when its *content* is a JPEG, PNG, WebP or HEIC image: the magic bytes name
the format, the file name's extension must agree with it, the container must end where the format
says it ends (nothing appended: a JPEG with a ZIP or HTML after its end marker is a polyglot), the
size and the pixel count stay under the limits (``CLINICAL_PHOTO_MAX_BYTES``,
``CLINICAL_PHOTO_MAX_PIXELS``) and Pillow decodes it whole. The image is then re-encoded (JPEG, PNG or
WebP; HEIC becomes JPEG) without EXIF, GPS or any other metadata: the stored bytes are Pillow's, never
the upload's. Every refusal is a ``PhotoRefused`` (a 422 naming the problem); nothing else escapes.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps
from pillow_heif import register_heif_opener

from clinicflow.core.errors import ValidationFailed

register_heif_opener()

DEFAULT_MAX_BYTES = 15 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000
# detected format -> (Pillow format, extensions a name may carry, stored format, content type, ext)
FORMATS: dict[str, tuple[str, frozenset[str], str, str, str]] = {
    "jpeg": ("JPEG", frozenset({"jpg", "jpeg", "jpe", "jfif"}), "JPEG", "image/jpeg", "jpg"),
    "png": ("PNG", frozenset({"png"}), "PNG", "image/png", "png"),
    "webp": ("WEBP", frozenset({"webp"}), "WEBP", "image/webp", "webp"),
    "heic": ("HEIF", frozenset({"heic", "heif"}), "JPEG", "image/jpeg", "jpg"),
}
HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"heif"})
BMFF_BOXES = frozenset(
    {b"ftyp", b"meta", b"mdat", b"free", b"skip", b"moov", b"uuid", b"idat", b"wide", b"pdin", b"styp"}
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PhotoRefused(ValidationFailed):
    """An upload that is not an acceptable photo; ``code`` names the problem."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"file: {message}", fields={"file": [message]}, code=code)


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    content_type: str
    ext: str
    width: int
    height: int
    source_format: str


def max_bytes() -> int:
    return int(getattr(settings, "CLINICAL_PHOTO_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_pixels() -> int:
    return int(getattr(settings, "CLINICAL_PHOTO_MAX_PIXELS", DEFAULT_MAX_PIXELS))


def check_name(name: str) -> str:
    """The lower-case extension of a plain file name; a path, a control character or no extension
    is refused."""
    if not name or len(name) > 200:
        raise PhotoRefused("bad_file_name", "the file name is missing or too long")
    if "/" in name or "\\" in name or ".." in name or any(ord(c) < 32 or c == "\x7f" for c in name):
        raise PhotoRefused("bad_file_name", "the file name contains a path or control characters")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or not ext:
        raise PhotoRefused("bad_file_name", "the file name has no extension")
    return ext.lower()


def sniff(data: bytes) -> str | None:
    """The format the magic bytes name (``jpeg``, ``png``, ``webp``, ``heic``), else None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == PNG_SIGNATURE:
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return "heic"
    return None


def _jpeg_end(data: bytes) -> int | None:
    """Offset just after the JPEG's end-of-image marker: marker segments are skipped by their
    length (an EXIF thumbnail's own EOI is inside one), entropy-coded data scanned for markers."""
    i, n, scanning = 2, len(data), False
    while i < n - 1:
        if data[i] != 0xFF:
            if not scanning:
                return None
            i += 1
            continue
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
        elif marker == 0xD9:
            return i + 2
        elif (scanning and marker == 0x00) or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            i += 2  # byte stuffing, restart markers, TEM: no length
        else:
            if i + 4 > n:
                return None
            i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
            scanning = marker == 0xDA
    return None


def _png_end(data: bytes) -> int | None:
    i, n = 8, len(data)
    while i + 12 <= n:
        length = struct.unpack(">I", data[i : i + 4])[0]
        kind = data[i + 4 : i + 8]
        i += 12 + length
        if kind == b"IEND":
            return i if i <= n else None
    return None


def _webp_end(data: bytes) -> int | None:
    if len(data) < 12:
        return None
    size = struct.unpack("<I", data[4:8])[0]
    end = 8 + size + (size & 1)
    return end if end <= len(data) + (size & 1) else None


def _heif_end(data: bytes) -> int | None:
    """Top-level ISO-BMFF boxes must tile the file: an unknown box or a gap is something appended."""
    i, n = 0, len(data)
    while i < n:
        if i + 8 > n:
            return None
        size = struct.unpack(">I", data[i : i + 4])[0]
        kind = data[i + 4 : i + 8]
        if kind not in BMFF_BOXES:
            return i  # the image stops here; what follows is not part of it
        if size == 1:
            if i + 16 > n:
                return None
            size = struct.unpack(">Q", data[i + 8 : i + 16])[0]
        elif size == 0:
            size = n - i
        if size < 8 or i + size > n:
            return None
        i += size
    return i


_ENDS = {"jpeg": _jpeg_end, "png": _png_end, "webp": _webp_end, "heic": _heif_end}


def check_structure(kind: str, data: bytes) -> None:
    end = _ENDS[kind](data)
    if end is None:
        raise PhotoRefused("truncated_image", "the image is truncated or damaged")
    if kind == "webp" and end == len(data) + 1:
        return  # the last chunk's pad byte may be missing: not trailing data
    if end < len(data):
        raise PhotoRefused(
            "polyglot", "the file has data after the end of the image (a hidden archive or page?)"
        )


def clean_photo(data: bytes, name: str) -> CleanPhoto:
    """Validate an uploaded photo and return it re-encoded without metadata, or raise PhotoRefused."""
    if not data:
        raise PhotoRefused("empty_file", "the file is empty")
    if len(data) > max_bytes():
        limit = max_bytes() // (1024 * 1024)
        raise PhotoRefused("file_too_large", f"the file is larger than {limit} MB")
    ext = check_name(name)
    kind = sniff(data)
    if kind is None:
        raise PhotoRefused("unsupported_type", "only JPEG, PNG, WebP or HEIC photos are accepted")
    pil_format, extensions, out_format, content_type, out_ext = FORMATS[kind]
    if ext not in extensions:
        raise PhotoRefused(
            "name_mismatch", f"the file name ends in .{ext[:10]} but the content is {pil_format}"
        )
    check_structure(kind, data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[pil_format]) as image:
                width, height = image.size
                if width < 1 or height < 1 or width * height > max_pixels():
                    raise PhotoRefused(
                        "too_many_pixels",
                        f"the image has {width}×{height} pixels; at most {max_pixels() // 1_000_000} MP",
                    )
                image.load()
                out = _reencode(image, out_format)
    except PhotoRefused:
        raise
    except Image.DecompressionBombError as exc:
        raise PhotoRefused("too_many_pixels", "the image has too many pixels") from exc
    except (OSError, SyntaxError) as exc:
        if "truncated" in str(exc).lower():
            raise PhotoRefused("truncated_image", "the image is truncated or damaged") from exc
        raise PhotoRefused("unreadable_image", "the image cannot be decoded") from exc
    except Exception as exc:  # any other decoder failure is an unreadable upload, never a 500
        raise PhotoRefused("unreadable_image", "the image cannot be decoded") from exc
    return CleanPhoto(
        data=out[0], content_type=content_type, ext=out_ext, width=out[1], height=out[2], source_format=kind
    )


def _reencode(image: Image.Image, out_format: str) -> tuple[bytes, int, int]:
    """Upright (EXIF orientation applied), then saved fresh: no EXIF, GPS, XMP or comments."""
    upright = ImageOps.exif_transpose(image)
    if out_format == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    elif out_format == "WEBP" and upright.mode not in ("RGB", "RGBA"):
        upright = upright.convert("RGBA" if "A" in upright.mode or "transparency" in upright.info else "RGB")
    elif out_format == "PNG" and upright.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
        upright = upright.convert("RGBA")
    if upright.mode == "P":
        upright = upright.convert("RGBA")
    fresh = Image.new(upright.mode, upright.size)  # a new image: none of the upload's info travels
    fresh.paste(upright)
    buf = io.BytesIO()
    options: dict[str, object] = {"quality": 90} if out_format in ("JPEG", "WEBP") else {"optimize": True}
    fresh.save(buf, format=out_format, **options)
    return buf.getvalue(), fresh.width, fresh.height

"""The upload validator alone: what it accepts, what it refuses (each refusal named), and a fuzz
that shows it only ever raises PhotoRefused."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from clinicflow.clinical.images import PhotoRefused, clean_photo
from clinicflow.clinical.tests.photo_fixtures import REFUSALS, image_bytes, jpeg_with_gps, zip_bytes

pytestmark = pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_each_hostile_upload_is_refused_with_its_problem_named(case: str) -> None:
    name, data, code = REFUSALS[case]
    with pytest.raises(PhotoRefused) as refused:
        clean_photo(data, name)
    assert refused.value.code == code
    assert refused.value.status == 422
    assert refused.value.fields["file"], "the message names the field"


@pytest.mark.parametrize(
    ("fmt", "name", "content_type"),
    [("JPEG", "a.JPG", "image/jpeg"), ("PNG", "a.png", "image/png"), ("WEBP", "a.webp", "image/webp")],
)
def test_jpeg_png_webp_are_reencoded_in_their_format(fmt: str, name: str, content_type: str) -> None:
    original = image_bytes(fmt, size=(120, 90))
    clean = clean_photo(original, name)
    assert clean.content_type == content_type
    assert (clean.width, clean.height) == (120, 90)
    assert Image.open(io.BytesIO(clean.data)).format == fmt


def test_heic_becomes_jpeg() -> None:
    clean = clean_photo(image_bytes("HEIF", size=(64, 48)), "IMG_0001.HEIC")
    assert clean.source_format == "heic"
    assert clean.content_type == "image/jpeg"
    assert Image.open(io.BytesIO(clean.data)).format == "JPEG"


def test_exif_and_gps_are_stripped() -> None:
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825), "the fixture carries GPS"
    clean = clean_photo(original, "p.jpg")
    stored = Image.open(io.BytesIO(clean.data))
    assert not stored.getexif()
    assert b"Exif" not in clean.data and b"PhoneCam" not in clean.data


def test_orientation_is_applied_before_exif_goes() -> None:
    image = Image.new("RGB", (60, 20), "blue")
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    buf = io.BytesIO()
    image.save(buf, format="JPEG", exif=exif)
    clean = clean_photo(buf.getvalue(), "p.jpg")
    assert (clean.width, clean.height) == (20, 60)


def test_too_many_bytes_and_pixels_follow_the_settings(settings) -> None:  # type: ignore[no-untyped-def]
    data = image_bytes(size=(400, 300))
    settings.CLINICAL_PHOTO_MAX_BYTES = len(data) - 1
    with pytest.raises(PhotoRefused) as big:
        clean_photo(data, "p.jpg")
    assert big.value.code == "file_too_large"
    settings.CLINICAL_PHOTO_MAX_BYTES = len(data)
    assert clean_photo(data, "p.jpg").width == 400
    settings.CLINICAL_PHOTO_MAX_PIXELS = 100 * 100
    with pytest.raises(PhotoRefused) as many:
        clean_photo(image_bytes(size=(101, 100)), "p.jpg")
    assert many.value.code == "too_many_pixels"
    assert clean_photo(image_bytes(size=(100, 100)), "p.jpg").width == 100


def test_a_jpeg_whose_exif_thumbnail_has_its_own_end_marker_is_not_a_polyglot() -> None:
    image = Image.new("RGB", (200, 150), "green")
    exif = image.getexif()
    exif[USER_COMMENT] = "x"
    buf = io.BytesIO()
    image.save(buf, format="JPEG", exif=exif, comment=b"\xff\xd9 inside a comment")
    assert clean_photo(buf.getvalue(), "p.jpeg").width == 200


def test_progressive_jpeg_is_accepted() -> None:
    buf = io.BytesIO()
    Image.effect_noise((256, 256), 60).convert("RGB").save(buf, format="JPEG", progressive=True)
    assert clean_photo(buf.getvalue(), "p.jpg").height == 256


def test_zip_alone_is_refused() -> None:
    with pytest.raises(PhotoRefused) as refused:
        clean_photo(zip_bytes(), "p.jpg")
    assert refused.value.code == "unsupported_type"


USER_COMMENT = 0x9286

SEEDS = [image_bytes("JPEG"), image_bytes("PNG"), image_bytes("WEBP"), image_bytes("HEIF")]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    seed=st.sampled_from(SEEDS),
    cut=st.integers(min_value=0, max_value=2000),
    flips=st.lists(st.tuples(st.integers(min_value=0, max_value=2000), st.integers(0, 255)), max_size=8),
    tail=st.binary(max_size=64),
    name=st.sampled_from(["a.jpg", "a.png", "a.webp", "a.heic", "a", "../a.jpg", "a.svg"]),
)
def test_fuzz_validator_only_ever_refuses(
    seed: bytes, cut: int, flips: list[tuple[int, int]], tail: bytes, name: str
) -> None:
    data = bytearray(seed[: max(1, len(seed) - cut)] if cut else seed)
    for at, value in flips:
        if data:
            data[at % len(data)] = value
    try:
        clean = clean_photo(bytes(data) + tail, name)
    except PhotoRefused as refused:
        assert refused.status == 422
    else:
        assert Image.open(io.BytesIO(clean.data)).size == (clean.width, clean.height)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=512), name=st.text(max_size=40))
def test_fuzz_random_bytes_and_names(data: bytes, name: str) -> None:
    with contextlib.suppress(PhotoRefused):
        clean_photo(data, name)

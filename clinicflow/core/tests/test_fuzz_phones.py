"""Hypothesis fuzzing of the phone parser (``core.phones``), which reads numbers typed into every
public form, webhook and import: ``normalize`` raises only ``InvalidPhone``, ``normalize_field`` only
``ValidationFailed`` naming the field, and the display helpers never raise (SECURITY.md SC-01)."""

from __future__ import annotations

import os

import phonenumbers
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from clinicflow.core import phones
from clinicflow.core.errors import ValidationFailed

FUZZ = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "200")),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
)

PHONE_LIKE = st.text(alphabet="0123456789+()-. ext#*٠١٢٣۴५๖", max_size=45)
RAW = st.one_of(PHONE_LIKE, st.text(max_size=50), st.sampled_from(["", " ", "00", "+", "8 (916) 123-45-67"]))
REGIONS = st.one_of(
    st.none(),
    st.sampled_from(["RU", "ru", "CN", "DE", "US", "ZZ", "001", ""]),
    st.text(max_size=4),
)


@FUZZ
@given(raw=RAW, region=REGIONS)
@example(raw="00", region="RU")
@example(raw="+" + "9" * 39, region=None)
def test_normalize_gives_e164_or_raises_invalid_phone(raw: str, region: str | None) -> None:
    try:
        e164 = phones.normalize(raw, region)
    except phones.InvalidPhone as exc:
        assert str(exc)
        assert phones.try_normalize(raw, region) is None
    else:
        assert e164.startswith("+") and e164[1:].isdigit()
        assert phonenumbers.is_valid_number(phonenumbers.parse(e164, None))
        assert phones.normalize(e164, None) == e164  # idempotent


@FUZZ
@given(raw=RAW, region=REGIONS, field=st.sampled_from(["phone", "caller", "number"]))
def test_normalize_field_only_raises_validation_failed_naming_the_field(
    raw: str, region: str | None, field: str
) -> None:
    try:
        phones.normalize_field(raw, region, field)
    except ValidationFailed as exc:
        assert list(exc.fields) == [field]
        assert exc.status == 422


@FUZZ
@given(text=st.one_of(RAW, st.text(max_size=80)))
def test_display_and_looks_like_phone_never_raise(text: str) -> None:
    assert isinstance(phones.display(text), str)
    assert isinstance(phones.looks_like_phone(text), bool)

"""``phonenumbers.is_valid_number`` for a number given as country code and national number, with the
same answer from the same metadata, in two regular-expression matches instead of up to eleven.

``phonenumbers`` finds the number's region (``region_code_for_number``), then its type: the general
pattern must match, then each type's pattern is tried in turn (premium rate ... fixed line, mobile);
the number is valid when one of them matches. Validity needs no type, so the type patterns that
allow the number's length are joined into one alternation, compiled once per region and length.
The equivalence is tested against ``phonenumbers`` itself (``tests/test_phones.py``)."""

from __future__ import annotations

import functools
import re

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata
from phonenumbers.phonemetadata import PhoneNumberDesc

TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


def _fits(desc: PhoneNumberDesc | None, length: int) -> bool:
    """The desc may hold a number of this length (no lengths listed: the general desc's, checked
    before) and has a pattern."""
    if desc is None or not desc.national_number_pattern:
        return False
    return not desc.possible_length or length in desc.possible_length


@functools.cache
def _region_matcher(region: str, length: int) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """(general pattern, the alternation of the type patterns) for numbers of ``length`` digits of
    ``region``; None when no number of that length can be valid there."""
    meta = PhoneMetadata.metadata_for_region(region, None)
    if meta is None or not _fits(meta.general_desc, length):
        return None
    # phonenumbers tries the mobile pattern only when it differs from the fixed-line one
    types = TYPES[:-1] if meta.same_mobile_and_fixed_line_pattern else TYPES
    patterns = [d.national_number_pattern for d in (getattr(meta, t) for t in types) if _fits(d, length)]
    if not patterns:
        return None
    assert meta.general_desc is not None  # _fits checked it
    general = re.compile(f"(?:{meta.general_desc.national_number_pattern})")
    return general, re.compile("|".join(f"(?:{p})" for p in patterns))


def _valid_in(region: str, nsn: str) -> bool:
    matcher = _region_matcher(region, len(nsn))
    return matcher is not None and bool(matcher[0].fullmatch(nsn)) and bool(matcher[1].fullmatch(nsn))


@functools.cache
def _leading(region: str) -> re.Pattern[str] | None:
    meta = PhoneMetadata.metadata_for_region(region, None)
    if meta is None or meta.leading_digits is None:
        return None
    return re.compile(meta.leading_digits)


def _region(code: int, nsn: str) -> str | None:
    """``region_code_for_number``: the only region of the code, else the first whose leading digits
    match (or, without leading digits, for which the number is valid)."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(code)
    if not regions:
        return None
    if len(regions) == 1:
        return regions[0]
    for region in regions:
        if PhoneMetadata.metadata_for_region(region, None) is None:
            continue
        leading = _leading(region)
        if leading is not None:
            if leading.match(nsn):
                return region
        elif _valid_in(region, nsn):
            return region
    return None


def is_valid(code: int, nsn: str) -> bool:
    """Whether ``+<code><nsn>`` is a valid number (``nsn`` without a leading zero: ``phonenumbers``
    would keep an "Italian leading zero" apart). Non-geographic codes (+800, +882 ...) are left to
    the caller: False here."""
    region = _region(code, nsn)
    if region is None or region == "001":
        return False
    return _valid_in(region, nsn)

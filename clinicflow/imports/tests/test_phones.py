"""The fast validity check of E.164 numbers gives phonenumbers' own answer."""

from __future__ import annotations

import random

import phonenumbers
from phonenumbers import PhoneNumberType

from clinicflow.imports.engine.clean import e164_fast
from clinicflow.imports.engine.phones import is_valid

TYPES = [
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.PAGER,
    PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
]


def _reference(code: int, nsn: str) -> bool:
    return phonenumbers.is_valid_number(phonenumbers.PhoneNumber(country_code=code, national_number=int(nsn)))


def test_every_example_number_of_every_region_and_type_agrees() -> None:
    checked = 0
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None or example.italian_leading_zero:
                continue
            nsn = str(example.national_number)
            assert is_valid(example.country_code, nsn) == _reference(example.country_code, nsn), (
                region,
                kind,
            )
            checked += 1
    assert checked > 1000


def test_random_numbers_of_every_calling_code_agree() -> None:
    rng = random.Random(20)
    codes = sorted(
        c
        for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE
        if c not in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS
    )
    valid = 0
    for _ in range(40_000):
        code = rng.choice(codes)
        nsn = str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(rng.randrange(3, 13)))
        expected = _reference(code, nsn)
        assert is_valid(code, nsn) == expected, (code, nsn)
        valid += expected
    assert valid > 1000  # the sample holds valid numbers too, not only refusals


def test_mutations_of_valid_numbers_agree() -> None:
    """Valid numbers with one digit changed, added or dropped: the cases near each pattern's edge."""
    rng = random.Random(7)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
        if example is None or example.italian_leading_zero:
            continue
        nsn, code = str(example.national_number), example.country_code
        for _ in range(30):
            i = rng.randrange(len(nsn))
            variants = (
                nsn[:i] + str(rng.randrange(10)) + nsn[i + 1 :],
                nsn + str(rng.randrange(10)),
                nsn[:-1],
            )
            for v in variants:
                if v and v[0] != "0":
                    assert is_valid(code, v) == _reference(code, v), (region, v)


def test_e164_fast_keeps_its_answers() -> None:
    assert e164_fast("+79161234567") == "+79161234567"
    assert e164_fast("+7916123456") is None  # too short: normalize() gives the reason
    assert e164_fast("+77012345678") == "+77012345678"  # Kazakhstan shares +7
    assert e164_fast("+8613812345678") == "+8613812345678"
    assert e164_fast("+3725123456") == "+3725123456"
    assert e164_fast("89161234567") is None

"""Coverage-guided fuzzing (atheris) of the parsers that read outside input, for long local runs; CI
runs the bounded Hypothesis versions (``clinicflow/*/tests/test_fuzz_*.py``). Each target fails on
any exception but the parser's domain error.

    .venv/bin/pip install atheris==3.0.0          # not in the lock: a local tool only
    .venv/bin/python scripts/fuzz/fuzz_parsers.py TARGET [atheris/libFuzzer options]
    .venv/bin/python scripts/fuzz/fuzz_parsers.py webhook -max_total_time=600 -rss_limit_mb=4096

TARGET: ``webhook`` (body reader + every provider's normaliser), ``signature`` (the signature
headers), ``phone`` (E.164 parsing), ``spend`` (the spend import's CSV/XLSX reader). A crash writes
its input to ``crash-<sha1>``; turn it into an ``@example`` of the matching Hypothesis test.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Callable
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

with atheris.instrument_imports():
    import django

    django.setup()
    from clinicflow.acquisition.marketing import spend_import
    from clinicflow.acquisition.providers import PROVIDERS, PayloadError, SignatureError
    from clinicflow.acquisition.providers.body import PayloadProblem, parse_body
    from clinicflow.core import phones

CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded"]


def webhook(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    content_type = CONTENT_TYPES[fdp.ConsumeIntInRange(0, 1)]
    try:
        payload = parse_body(fdp.ConsumeBytes(fdp.remaining_bytes()), content_type)
    except PayloadProblem:
        return
    for spec in PROVIDERS.values():
        with contextlib.suppress(PayloadError):
            spec.normalise(payload)


def signature(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    header = fdp.ConsumeUnicodeNoSurrogates(120)
    key = fdp.ConsumeUnicodeNoSurrogates(40) or "k"
    body = fdp.ConsumeBytes(fdp.remaining_bytes())
    for spec in PROVIDERS.values():
        if spec.verify is not None:
            with contextlib.suppress(SignatureError):
                spec.verify(body, {spec.signature_header: header}, key, dt.datetime.now(dt.UTC))


def phone(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    region = fdp.ConsumeUnicodeNoSurrogates(3)
    raw = fdp.ConsumeUnicodeNoSurrogates(60)
    with contextlib.suppress(phones.InvalidPhone):
        phones.normalize(raw, region)
    phones.display(raw)


def spend(data: bytes) -> None:
    ext = "xlsx" if data[:2] == b"PK" else "csv"
    with contextlib.suppress(spend_import.FileProblem):
        spend_import.guess_mapping(spend_import.read_table(data, ext).headers)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "webhook": webhook,
    "signature": signature,
    "phone": phone,
    "spend": spend,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

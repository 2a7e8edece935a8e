"""Hypothesis fuzzing of every acquisition parser that reads outside input (SECURITY.md SC-01, IN-03):
the webhook body reader, each provider's normaliser and signature check, the spend import's CSV/XLSX
reader and row parser, and the public endpoints behind them (call webhooks, the tracking beacon and
lead form). A parser only ever raises its domain error; an endpoint never answers 5xx.

Bounded for CI (``FUZZ``: 200 examples a test, no deadline, derandomised under ``CI``); longer runs:
``HYPOTHESIS_MAX_EXAMPLES=5000 pytest clinicflow/acquisition/tests/test_fuzz_parsers.py`` or the atheris
harness in ``scripts/fuzz/``."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import zipfile
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from clinicflow.acquisition import defaults
from clinicflow.acquisition.marketing import spend_import
from clinicflow.acquisition.models import TrackingSettings
from clinicflow.acquisition.providers import PROVIDERS, PayloadError, SignatureError, callrail, generic
from clinicflow.acquisition.providers.body import PayloadProblem, parse_body

FUZZ = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "200")),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Endpoint tests go through the database: fewer examples keep the whole file well under a minute.
FUZZ_DB = settings(FUZZ, max_examples=max(20, FUZZ.max_examples // 2))

# --- strategies ---------------------------------------------------------------------------------------

FIELDS = sorted(
    {
        *("id", "resource_id", "answered", "call_type", "customer_phone_number", "tracking_phone_number"),
        *("business_phone_number", "start_time", "duration", "recording", "agent_email", "source", "medium"),
        *("utm_source", "utm_medium", "utm_campaign", "campaign", "callId", "callid", "callerphone"),
        *("callerNumber", "phonenumber", "phoneNumber", "timestamp", "date", "waitingConnect"),
        *("waiting_time", "successful", "callphase", "callUrl", "utmSource", "utmMedium", "utmCampaign"),
        *("ctClientId", "call_id", "event", "caller", "called", "started_at", "answered_at", "ended_at"),
        *("recording_url", "administrator_email", "client_id"),
    }
)
TIMES = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.strftime("%d/%m/%Y %H:%M:%S")),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.text(alphabet="0123456789-:T+Z. /²٣", max_size=40),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=60),
    TIMES,
    st.sampled_from(["ringing", "answered", "completed", "missed", "callbegin", "calldisconnected", "true"]),
    st.sampled_from(["https://x.example/r.mp3", "+79161234567", "8 (916) 123-45-67", "a@b.example"]),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda kids: st.one_of(
        st.lists(kids, max_size=3), st.dictionaries(st.text(max_size=8), kids, max_size=3)
    ),
    max_leaves=8,
)
PAYLOADS = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), JSON_VALUES, max_size=14)
CONTENT_TYPES = st.sampled_from(
    ["application/json", "text/json; charset=utf-8", "application/x-www-form-urlencoded", "text/plain", ""]
) | st.text(max_size=40)
# bodies a real sender could get wrong: raw bytes, JSON of any shape, deep nesting, huge numbers, forms
BODIES = st.one_of(
    st.binary(max_size=400),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    PAYLOADS.map(lambda p: json.dumps(p, allow_nan=True).encode()),
    st.integers(min_value=1, max_value=20_000).map(lambda n: b"[" * n + b"]" * (n % 3)),
    st.integers(min_value=1, max_value=6000).map(lambda n: b'{"duration": ' + b"7" * n + b"}"),
    st.dictionaries(st.sampled_from(FIELDS), st.text(max_size=30), max_size=8).map(
        lambda d: "&".join(f"{k}={v}" for k, v in d.items()).encode("utf-8", "surrogatepass")
    ),
)
HEADER_TEXT = st.text(max_size=120)
# what can reach a view in a header: WSGI servers pass printable Latin-1 (no NUL, CR or LF)
HTTP_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=120
)
HTTP_CONTENT_TYPES = (
    st.sampled_from(
        [
            "application/json",
            "text/json; charset=utf-8",
            "application/x-www-form-urlencoded",
            "text/plain",
            "",
        ]
    )
    | HTTP_TEXT
)
SIGNATURES = st.one_of(
    HEADER_TEXT,
    st.builds(
        lambda t, v: f"t={t},v1={v}", st.integers(min_value=-(10**15), max_value=10**15), st.text(max_size=70)
    ),
    st.text(alphabet="0123456789٠١٢٣", min_size=1, max_size=14).map(lambda t: f"t={t},v1=00"),
)


# --- pure parsers ---------------------------------------------------------------------------------------


@FUZZ
@given(body=BODIES, content_type=CONTENT_TYPES)
@example(body=b"[" * 5000, content_type="application/json")  # RecursionError before the fix
@example(body=b'{"n": ' + b"1" * 5000 + b"}", content_type="application/json")  # int digit limit
def test_the_webhook_body_reader_only_raises_payload_problem(body: bytes, content_type: str) -> None:
    try:
        data = parse_body(body, content_type)
    except PayloadProblem as exc:
        assert exc.status in (400, 413, 415)
    else:
        assert isinstance(data, dict)


@FUZZ
@given(provider=st.sampled_from(sorted(PROVIDERS)), payload=PAYLOADS)
@example(provider="generic", payload={"call_id": "1", "event": "ringing", "caller": "1", "called": "2", "started_at": "0001-01-01T00:00:00+01:00"})  # fmt: skip
@example(provider="callrail", payload={"id": "1", "customer_phone_number": "1", "start_time": "²"})
@example(provider="calltouch", payload={"callId": "1", "callerphone": "1", "date": "01/01/0001 00:00:00"})
def test_each_provider_normaliser_only_raises_payload_error(provider: str, payload: dict[str, Any]) -> None:
    try:
        event = PROVIDERS[provider].normalise(payload)
    except PayloadError as exc:
        assert exc.field and exc.message
    else:
        assert event.started_at.tzinfo is not None
        assert event.provider_call_id


@FUZZ
@given(
    provider=st.sampled_from(sorted(p for p, spec in PROVIDERS.items() if spec.verify is not None)),
    body=st.binary(max_size=200),
    value=SIGNATURES,
    key=st.text(min_size=1, max_size=40),
    other_headers=st.dictionaries(HEADER_TEXT, HEADER_TEXT, max_size=3),
)
def test_signature_header_parsing_only_raises_signature_error(
    provider: str, body: bytes, value: str, key: str, other_headers: dict[str, str]
) -> None:
    spec = PROVIDERS[provider]
    headers = {**other_headers, spec.signature_header: value}
    assert spec.verify is not None
    try:
        spec.verify(body, headers, key, dt.datetime.now(dt.UTC))
    except SignatureError as exc:
        assert str(exc)
    else:  # random text passes only when it is the signature itself
        assert provider == "callrail" and value.strip() == callrail.sign(body, key)


CELLS = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.datetimes(),
    st.sampled_from(["1 234,50", "1.234,56", "1,234.56", "01.03.2025", "2025-02-30", "-5", "1e9", ".5"]),
)


def _csv(rows: list[list[Any]], delimiter: str) -> str:
    return "\n".join(delimiter.join("" if c is None else str(c) for c in row) for row in rows)


@FUZZ
@given(
    data=st.one_of(
        st.binary(max_size=500),
        st.tuples(st.lists(st.lists(CELLS, max_size=7), max_size=8), st.sampled_from([";", ",", "\t"])).map(
            lambda t: _csv(*t).encode("utf-8")
        ),
        st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    ),
    ext=st.sampled_from(["csv", "xlsx"]),
)
@example(data=b"date;spend\n\x98;1", ext="csv")  # neither UTF-8 nor Windows-1251: UnicodeDecodeError before
def test_the_spend_file_reader_only_raises_file_problem(data: bytes, ext: str) -> None:
    try:
        table = spend_import.read_table(data, ext)
    except spend_import.FileProblem as exc:
        assert str(exc)
    else:
        assert isinstance(table.headers, list)
        spend_import.guess_mapping(table.headers)


def _xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:  # characters a worksheet cannot hold are dropped, as Excel would never write them
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", c) if isinstance(c, str) else c for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SHEET = "xl/worksheets/sheet1.xml"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
XML_TEXT = st.text(
    alphabet=st.characters(exclude_categories=["Cs", "Cc"]) | st.sampled_from("<>&\"'"), max_size=12
)
# a sheet as a damaged or hand-made workbook could hold it: odd row numbers, cell refs, types and values
SHEET_XML = st.one_of(
    st.binary(max_size=200),
    st.lists(
        st.tuples(
            XML_TEXT, XML_TEXT, st.sampled_from(["n", "s", "b", "d", "e", "str", "inlineStr", "x"]), XML_TEXT
        ),
        max_size=4,
    ).map(
        lambda cells: (
            f'<worksheet xmlns="{MAIN_NS}"><sheetData>'
            + "".join(
                f'<row r="{r}"><c r="{ref}" t="{kind}"><v>{v}</v></c></row>' for r, ref, kind, v in cells
            )
            + "</sheetData></worksheet>"
        ).encode("utf-8", "surrogatepass")
    ),
)


def with_sheet(xml: bytes) -> bytes:
    """A real workbook (``_xlsx``) whose first sheet is replaced by ``xml``."""
    source = zipfile.ZipFile(io.BytesIO(_xlsx([["date", "spend"], ["2025-01-01", 5]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        for name in source.namelist():
            book.writestr(name, xml if name == SHEET else source.read(name))
    return out.getvalue()


@FUZZ
@given(xml=SHEET_XML)
@example(xml=f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="x"><c r="A1"><v>1</v></c></row></sheetData></worksheet>'.encode())  # fmt: skip
def test_a_damaged_xlsx_sheet_is_a_file_problem(xml: bytes) -> None:
    try:
        spend_import.read_table(with_sheet(xml), "xlsx")
    except spend_import.FileProblem as exc:
        assert str(exc)


SPEND_HEADERS = ["Дата", "Канал", "Кампания", "Расход", "Показы", "Клики"]
SPEND_ROWS = st.lists(
    st.lists(
        st.one_of(CELLS, st.sampled_from(["search_ads", "Search ads", "social_ads", "Brand", "brand"])),
        min_size=0,
        max_size=7,
    ),
    max_size=6,
)


@pytest.mark.django_db
@FUZZ_DB
@given(rows=SPEND_ROWS, ext=st.sampled_from(["csv", "xlsx"]), create=st.booleans())
def test_spend_rows_are_parsed_into_rows_or_row_errors_never_an_exception(
    org: Any, rows: list[list[Any]], ext: str, create: bool
) -> None:
    defaults.channels_ensure(org=org)
    data = _xlsx([SPEND_HEADERS, *rows]) if ext == "xlsx" else _csv([SPEND_HEADERS, *rows], ";").encode()
    try:
        table = spend_import.read_table(data, ext)
    except spend_import.FileProblem:
        return
    preview = spend_import.parse(
        org=org, table=table, mapping=spend_import.guess_mapping(table.headers), create_missing=create
    )
    assert len(preview.rows) + len({e.line for e in preview.errors}) <= len(table.rows)
    assert all(r.spend.amount >= 0 for r in preview.rows)


# --- endpoints --------------------------------------------------------------------------------------------


@pytest.fixture
def hooks(org: Any, branch: Any, make_integration: Any) -> dict[str, str]:
    """provider -> its webhook URL (generic and callrail with a signing key, calltouch without)."""
    urls = {}
    for provider in sorted(PROVIDERS):
        _integration, secret = make_integration(
            provider, signing_key="" if provider == "calltouch" else "k3y"
        )
        urls[provider] = f"/hooks/calls/{provider}/{secret}"
    return urls


@pytest.mark.django_db
@FUZZ_DB
@given(
    provider=st.sampled_from(sorted(PROVIDERS)),
    body=BODIES,
    content_type=HTTP_CONTENT_TYPES,
    signature=HTTP_TEXT,
    sign=st.booleans(),
)
def test_the_call_webhook_never_answers_5xx(
    hooks: dict[str, str], provider: str, body: bytes, content_type: str, signature: str, sign: bool
) -> None:
    headers = {}
    if provider == "callrail":
        headers["Signature"] = callrail.sign(body, "k3y") if sign else signature
    elif provider == "generic":
        headers["X-Clinicflow-Signature"] = (
            generic.sign(body, "k3y", dt.datetime.now(dt.UTC)) if sign else signature
        )
    response = Client().post(hooks[provider], data=body, content_type=content_type, headers=headers)
    assert response.status_code < 500, response.content[:300]


@pytest.fixture
def tracking_key(org: Any, branch: Any) -> str:
    defaults.channels_ensure(org=org)
    cfg: TrackingSettings = defaults.tracking_settings(org=org)
    return cfg.public_key


BEACON_FIELDS = ["cid", "sid", "url", "ref", "utm_source", "utm_medium", "utm_campaign", "utm_content"]
BEACON_FIELDS += ["utm_term", "gclid", "yclid", "branch", "name", "phone", "email", "message"]


@pytest.mark.django_db
@FUZZ_DB
@given(
    endpoint=st.sampled_from(["/t/session", "/t/lead"]),
    fields=st.dictionaries(st.sampled_from(BEACON_FIELDS), JSON_VALUES, max_size=10),
    raw=st.one_of(st.none(), BODIES),
    content_type=st.sampled_from(["text/plain", "application/json"]) | HTTP_CONTENT_TYPES,
    origin=HTTP_TEXT,
    ip=st.ip_addresses(v=4).map(str),
)
@example(endpoint="/t/session", fields={"cid": "a\x00b"}, raw=None, content_type="text/plain", origin="", ip="10.0.0.1")  # fmt: skip
@example(endpoint="/t/lead", fields={"name": "\ud800", "email": "a@b.example"}, raw=None, content_type="text/plain", origin="", ip="10.0.0.2")  # fmt: skip
@example(endpoint="/t/session", fields={}, raw=b"[" * 5000, content_type="text/plain", origin="", ip="10.0.0.3")  # fmt: skip
def test_the_tracking_beacon_and_lead_endpoints_never_answer_5xx(
    tracking_key: str,
    endpoint: str,
    fields: dict[str, Any],
    raw: bytes | None,
    content_type: str,
    origin: str,
    ip: str,
) -> None:
    body = raw if raw is not None else json.dumps({"k": tracking_key, **fields}).encode()
    response = Client(REMOTE_ADDR=ip).post(
        endpoint, data=body, content_type=content_type, headers={"Origin": origin}
    )
    assert response.status_code < 500, response.content[:300]

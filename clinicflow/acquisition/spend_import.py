"""Ad spend import: read a CSV or XLSX export, map its columns, parse and check every row.

Nothing here writes spend: the rows that pass go to ``services.ad_spend_import`` (atomic upsert).
The uploaded file waits between preview and save in ``MEDIA_ROOT/tmp/spend_import`` under a random
name; the page keeps only a signed token (organisation, user, file name) in the user's session, so the
parsed rows are always re-read from the stored file, never from anything the browser posts back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext_lazy as _

from clinicflow.acquisition import selectors
from clinicflow.acquisition.models import Campaign, Channel
from clinicflow.acquisition.services import MAX_SPEND, SpendRow
from clinicflow.core.models import Organization

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 60
MAX_CELL = 500
KEEP_SECONDS = 24 * 3600
SALT = "clinicflow.acquisition.spend_import"
EXTENSIONS = ("csv", "xlsx")
_NAME_RE = re.compile(r"^[0-9a-f]{32}\.(csv|xlsx)$")

TARGETS: tuple[tuple[str, Any, bool], ...] = (
    ("date", _("Date"), True),
    ("channel", _("Channel"), True),
    ("campaign", _("Campaign"), False),
    ("spend", _("Spend"), True),
    ("impressions", _("Impressions"), False),
    ("clicks", _("Clicks"), False),
)
# Header names recognised for each target, English and Russian (compared lower-case, without punctuation).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "date": ("date", "day", "дата", "день"),
    "channel": ("channel", "source", "канал", "источник", "рекламная система"),
    "campaign": ("campaign", "campaign name", "кампания", "название кампании", "рекламная кампания"),
    "spend": ("spend", "cost", "amount", "расход", "расходы", "затраты", "стоимость", "сумма"),
    "impressions": ("impressions", "impr", "показы", "показов"),
    "clicks": ("clicks", "клики", "кликов", "переходы"),
}


class FileProblem(ValueError):
    """The file as a whole cannot be read (not a table, too large, too many rows, no header)."""


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: Sequence[tuple[int, Sequence[Any]]]  # (line number in the file, cell values)


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    code: str  # bad_date, bad_number, negative, too_large, unknown_channel, unknown_campaign, duplicate
    reason: str
    value: str = ""


@dataclass
class Preview:
    rows: list[SpendRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # (channel, campaign name) of campaigns that do not exist yet on a known channel
    missing_campaigns: dict[tuple[Any, str], Channel] = field(default_factory=dict)
    total: Decimal = Decimal(0)

    @property
    def blocking_errors(self) -> list[RowError]:
        return [e for e in self.errors if e.code != "unknown_campaign"]


# --- reading ----------------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"[^\w ]+", " ", text.lower().replace("ё", "е")).strip()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()[:MAX_CELL]


def read_table(data: bytes, ext: str) -> Table:
    if len(data) > MAX_BYTES:
        raise FileProblem(str(_("The file is larger than 5 MB.")))
    records = _read_xlsx(data) if ext == "xlsx" else _read_csv(data)
    headers: list[str] | None = None
    rows: list[tuple[int, Sequence[Any]]] = []
    for line, values in records:
        values = list(values[:MAX_COLUMNS])
        if all(_cell_text(v) == "" for v in values):
            continue
        if headers is None:
            headers = [_cell_text(v) for v in values]
            continue
        if len(rows) >= MAX_ROWS:
            raise FileProblem(str(_("The file has more than 100,000 rows.")))
        rows.append((line, values))
    if headers is None:
        raise FileProblem(str(_("The file is empty: a header row is needed.")))
    return Table(headers=headers, rows=rows)


def _read_csv(data: bytes) -> Iterator[tuple[int, Sequence[Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1251")  # Excel in Russian saves CSV in Windows-1251
    if "\x00" in text:
        raise FileProblem(str(_("This is not a CSV file.")))
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    try:
        yield from enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
    except csv.Error as exc:
        raise FileProblem(str(_("The CSV file cannot be read: %(reason)s") % {"reason": exc})) from exc


def _read_xlsx(data: bytes) -> Iterator[tuple[int, Sequence[Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of errors for a damaged file
        raise FileProblem(str(_("This is not a readable XLSX workbook."))) from exc
    try:
        sheet = workbook.worksheets[0]
        yield from enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1)
    finally:
        workbook.close()


def guess_mapping(headers: Sequence[str]) -> dict[str, int | None]:
    """Target field → index of the header that names it (exact synonym first, then a prefix)."""
    normed = [_norm(h) for h in headers]
    mapping: dict[str, int | None] = {}
    used: set[int] = set()
    for target, _label, _req in TARGETS:
        names = SYNONYMS[target]
        found = next((i for i, h in enumerate(normed) if h in names and i not in used), None)
        if found is None:
            found = next(
                (i for i, h in enumerate(normed) if i not in used and any(h.startswith(n) for n in names)),
                None,
            )
        mapping[target] = found
        if found is not None:
            used.add(found)
    return mapping


# --- parsing ----------------------------------------------------------------------------------------------

_DMY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _cell_text(value)
    m = _DMY.match(text)
    try:
        if m:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
            return dt.date.fromisoformat(text)
    except ValueError:
        return None
    return None


def parse_decimal(value: Any) -> Decimal | None:
    """A number with a comma or a dot as the decimal separator; spaces as thousands separators."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):  # an XLSX number cell: its shortest repr is what the sheet shows
        return Decimal(repr(value))
    text = _cell_text(value).replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if not text:
        return None
    if "," in text and "." in text:  # both: the later one separates the decimals (1,234.56 / 1.234,56)
        thousands = "," if text.rfind(".") > text.rfind(",") else "."
        text = text.replace(thousands, "")
    text = text.replace(",", ".")
    if not re.match(r"^[+-]?(\d+(\.\d*)?|\.\d+)$", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _count(value: Any) -> int | None:
    if value is None or _cell_text(value) == "":
        return 0
    number = parse_decimal(value)
    if number is None or number < 0 or number != number.to_integral_value() or number > 2_000_000_000:
        return None
    return int(number)


def _lookup(org: Organization) -> tuple[dict[str, Channel], dict[tuple[Any, str], Campaign]]:
    channels: dict[str, Channel] = {}
    for ch in selectors.channels(org=org):
        channels[ch.code.lower()] = ch
        channels.setdefault(ch.name.strip().lower(), ch)
        channels.setdefault(str(ch.get_code_display()).lower(), ch)
    campaigns: dict[tuple[Any, str], Campaign] = {}
    for camp in selectors.campaigns(org=org):
        campaigns[(camp.channel_id, camp.name.lower())] = camp
        if camp.utm_campaign:
            campaigns.setdefault((camp.channel_id, camp.utm_campaign.lower()), camp)
    return channels, campaigns


def parse(
    *, org: Organization, table: Table, mapping: dict[str, int | None], create_missing: bool = False
) -> Preview:
    """Check every row. Unknown campaigns of a known channel are errors unless ``create_missing``."""
    channels, campaigns = _lookup(org)
    out = Preview()
    seen: dict[tuple[Any, ...], int] = {}

    def cell(values: Sequence[Any], target: str) -> Any:
        index = mapping.get(target)
        return values[index] if index is not None and index < len(values) else None

    for line, values in table.rows:
        errors: list[RowError] = []
        raw_date = cell(values, "date")
        day = parse_date(raw_date)
        if day is None:
            errors.append(
                RowError(
                    line,
                    "date",
                    "bad_date",
                    str(_("bad date (use YYYY-MM-DD or DD.MM.YYYY)")),
                    _cell_text(raw_date),
                )
            )
        raw_spend = cell(values, "spend")
        spend = parse_decimal(raw_spend)
        if spend is None:
            errors.append(
                RowError(line, "spend", "bad_number", str(_("not a number")), _cell_text(raw_spend))
            )
        elif spend < 0:
            errors.append(
                RowError(line, "spend", "negative", str(_("negative spend")), _cell_text(raw_spend))
            )
        elif spend > MAX_SPEND:
            errors.append(RowError(line, "spend", "too_large", str(_("too large")), _cell_text(raw_spend)))
        counts = {}
        for name in ("impressions", "clicks"):
            raw = cell(values, name)
            counts[name] = _count(raw)
            if counts[name] is None:
                errors.append(
                    RowError(
                        line, name, "bad_number", str(_("not a whole non-negative number")), _cell_text(raw)
                    )
                )
        channel_text = _cell_text(cell(values, "channel"))
        channel = channels.get(channel_text.lower())
        campaign_text = _cell_text(cell(values, "campaign"))
        campaign: Campaign | None = None
        new_campaign = ""
        if channel is None:
            errors.append(
                RowError(line, "channel", "unknown_channel", str(_("unknown channel")), channel_text)
            )
        elif campaign_text:
            campaign = campaigns.get((channel.pk, campaign_text.lower()))
            if campaign is None:
                new_campaign = campaign_text[:200]
                out.missing_campaigns.setdefault((channel.pk, new_campaign.lower()), channel)
                if not create_missing:
                    errors.append(
                        RowError(
                            line,
                            "campaign",
                            "unknown_campaign",
                            str(_("unknown campaign of this channel")),
                            campaign_text,
                        )
                    )
        if day is not None and channel is not None:
            key = (
                ("campaign", campaign.pk if campaign else new_campaign.lower(), day)
                if campaign_text
                else ("channel", channel.pk, day)
            )
            if key in seen:
                errors.append(
                    RowError(
                        line,
                        "date",
                        "duplicate",
                        str(_("the same day and campaign as line %(line)s") % {"line": seen[key]}),
                        _cell_text(raw_date),
                    )
                )
            else:
                seen[key] = line
        if errors:
            out.errors.extend(errors)
            continue
        assert day is not None and spend is not None and channel is not None
        out.rows.append(
            SpendRow(
                line=line,
                date=day,
                channel=channel,
                campaign=campaign,
                spend=spend,
                impressions=counts["impressions"] or 0,
                clicks=counts["clicks"] or 0,
                new_campaign=new_campaign,
            )
        )
        out.total += spend
    return out


# --- temporary storage between upload, preview and save -------------------------------------------------


def tmp_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "tmp" / "spend_import"


def tmp_cleanup(now: float | None = None) -> int:
    """Delete uploads older than 24 hours. Returns how many were removed."""
    now = now or time.time()
    removed = 0
    folder = tmp_dir()
    if not folder.is_dir():
        return 0
    for path in folder.iterdir():
        if _NAME_RE.match(path.name) and now - path.stat().st_mtime > KEEP_SECONDS:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def tmp_store(*, org: Organization, user_id: object, data: bytes, ext: str, filename: str) -> str:
    """Keep an upload under a random name; returns a signed token naming its owner."""
    if ext not in EXTENSIONS:
        raise FileProblem(str(_("Upload a .csv or .xlsx file.")))
    tmp_cleanup()
    folder = tmp_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{ext}"
    (folder / name).write_bytes(data)
    return signing.dumps({"n": name, "o": str(org.pk), "u": str(user_id), "f": filename[:100]}, salt=SALT)


@dataclass(frozen=True)
class StoredFile:
    path: Path
    ext: str
    filename: str


def tmp_open(*, org: Organization, user_id: object, token: str) -> StoredFile | None:
    """The stored upload this token names, if it is the same organisation's and user's and not expired."""
    try:
        data = signing.loads(token, salt=SALT, max_age=KEEP_SECONDS)
    except signing.BadSignature:
        return None
    name = str(data.get("n", ""))
    if data.get("o") != str(org.pk) or data.get("u") != str(user_id) or not _NAME_RE.match(name):
        return None
    path = tmp_dir() / name
    if not path.is_file():
        return None
    return StoredFile(path=path, ext=name.rsplit(".", 1)[1], filename=str(data.get("f", "")))


def tmp_delete(stored: StoredFile) -> None:
    stored.path.unlink(missing_ok=True)

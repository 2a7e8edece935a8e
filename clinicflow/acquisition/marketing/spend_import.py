"""Ad spend import: read a CSV or XLSX export, map its columns, parse and check every row.

Nothing here writes spend: the rows that pass go to ``marketing.services.ad_spend_import`` (atomic
upsert). The upload waits between the steps in ``marketing.spend_uploads``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _
from openpyxl import load_workbook

from clinicflow.acquisition.marketing import selectors, spend_limits
from clinicflow.acquisition.marketing.services import MAX_SPEND, SpendRow
from clinicflow.acquisition.models import Campaign, Channel, ChannelKind
from clinicflow.core.models import Organization
from clinicflow.core.money import Money

MAX_BYTES = 5 * 1024 * 1024  # rows and unpacked XLSX size: see ``spend_limits``
MAX_COLUMNS = 60
MAX_CELL = 500
EXTENSIONS = ("csv", "xlsx")

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
    code: str  # bad_date, bad_number, negative, too_large, unknown_channel, unknown_campaign, duplicate,
    # free_channel
    reason: str
    value: str = ""


@dataclass
class Preview:
    total: Money  # of the ready rows, in the organisation's currency
    rows: list[SpendRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # (channel, campaign name) of campaigns that do not exist yet on a known channel
    missing_campaigns: dict[tuple[Any, str], Channel] = field(default_factory=dict)

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
    limit = spend_limits.max_rows()
    headers: list[str] | None = None
    rows: list[tuple[int, Sequence[Any]]] = []
    for line, values in records:
        values = list(values[:MAX_COLUMNS])
        if all(_cell_text(v) == "" for v in values):
            continue
        if headers is None:
            headers = [_cell_text(v) for v in values]
            continue
        if len(rows) >= limit:
            raise FileProblem(str(_("The file has more than %(rows)s rows.") % {"rows": f"{limit:,}"}))
        rows.append((line, values))
    if headers is None:
        raise FileProblem(str(_("The file is empty: a header row is needed.")))
    return Table(headers=headers, rows=rows)


def _read_csv(data: bytes) -> Iterator[tuple[int, Sequence[Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1251")  # Excel in Russian saves CSV in Windows-1251
        except UnicodeDecodeError as exc:  # a byte (0x98) that Windows-1251 leaves undefined
            raise FileProblem(str(_("This is not a CSV file."))) from exc
    if "\x00" in text:
        raise FileProblem(str(_("This is not a CSV file.")))
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    try:
        yield from enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
    except csv.Error as exc:
        raise FileProblem(str(_("The CSV file cannot be read: %(reason)s") % {"reason": exc})) from exc


def _read_xlsx(data: bytes) -> Iterator[tuple[int, Sequence[Any]]]:
    problem = spend_limits.unpacked_problem(data)
    if problem:
        raise FileProblem(problem)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of errors for a damaged file
        raise FileProblem(str(_("This is not a readable XLSX workbook."))) from exc
    try:
        sheet = workbook.worksheets[0]
        yield from enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1)
    except Exception as exc:  # a damaged sheet (e.g. <row r="x">) fails only as its rows are read
        raise FileProblem(str(_("This is not a readable XLSX workbook."))) from exc
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


Channels = dict[str, Channel]
Campaigns = dict[tuple[Any, str], Campaign]


def _lookup(org: Organization) -> tuple[Channels, Campaigns]:
    channels: Channels = {}
    for ch in selectors.channels(org=org):
        channels[ch.code.lower()] = ch
        channels.setdefault(ch.name.strip().lower(), ch)
        for translated in (ch.name_i18n or {}).values():  # its name in another language too
            channels.setdefault(str(translated).strip().lower(), ch)
        channels.setdefault(str(ch.get_code_display()).lower(), ch)
    campaigns: Campaigns = {}
    for camp in selectors.campaigns(org=org):
        campaigns[(camp.channel_id, camp.name.lower())] = camp
        if camp.utm_campaign:
            campaigns.setdefault((camp.channel_id, camp.utm_campaign.lower()), camp)
    return channels, campaigns


def _cell(values: Sequence[Any], mapping: dict[str, int | None], target: str) -> Any:
    index = mapping.get(target)
    return values[index] if index is not None and index < len(values) else None


def _day(line: int, raw: Any, errors: list[RowError]) -> dt.date | None:
    day = parse_date(raw)
    if day is None:
        reason = str(_("bad date (use YYYY-MM-DD or DD.MM.YYYY)"))
        errors.append(RowError(line, "date", "bad_date", reason, _cell_text(raw)))
    return day


def _spend(line: int, raw: Any, errors: list[RowError]) -> Decimal | None:
    spend = parse_decimal(raw)
    if spend is None:
        problem: tuple[str, Any] = ("bad_number", _("not a number"))
    elif spend < 0:
        problem = ("negative", _("negative spend"))
    elif spend > MAX_SPEND:
        problem = ("too_large", _("too large"))
    else:
        return spend
    errors.append(RowError(line, "spend", problem[0], str(problem[1]), _cell_text(raw)))
    return None


def _counts(line: int, raw: dict[str, Any], errors: list[RowError]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, value in raw.items():
        number = _count(value)
        if number is None:
            reason = str(_("not a whole non-negative number"))
            errors.append(RowError(line, name, "bad_number", reason, _cell_text(value)))
        counts[name] = number or 0
    return counts


@dataclass(frozen=True)
class _Found:
    """The channel and campaign a row names; ``new_campaign``: a campaign name the channel lacks."""

    channel: Channel | None
    campaign: Campaign | None = None
    new_campaign: str = ""


def _target(
    line: int,
    channel_text: str,
    campaign_text: str,
    lookup: tuple[Channels, Campaigns],
    errors: list[RowError],
) -> _Found:
    channel = lookup[0].get(channel_text.lower())
    if channel is None:
        errors.append(RowError(line, "channel", "unknown_channel", str(_("unknown channel")), channel_text))
        return _Found(channel=None)
    if not campaign_text:
        return _Found(channel=channel)
    campaign = lookup[1].get((channel.pk, campaign_text.lower()))
    if campaign is not None:
        return _Found(channel=channel, campaign=campaign)
    return _Found(channel=channel, new_campaign=campaign_text[:200])


def _duplicate(
    line: int, key: tuple[Any, ...], seen: dict[tuple[Any, ...], int], raw_date: Any, errors: list[RowError]
) -> None:
    if key in seen:
        reason = str(_("the same day and campaign as line %(line)s") % {"line": seen[key]})
        errors.append(RowError(line, "date", "duplicate", reason, _cell_text(raw_date)))
    else:
        seen[key] = line


def _parse_row(
    line: int,
    values: Sequence[Any],
    mapping: dict[str, int | None],
    lookup: tuple[Channels, Campaigns],
    out: Preview,
    create_missing: bool,
    currency: str,
) -> tuple[SpendRow | None, list[RowError], tuple[Any, ...] | None]:
    """One row checked: the row to import (None when it has errors), its errors, its duplicate key."""
    errors: list[RowError] = []
    raw_date = _cell(values, mapping, "date")
    day = _day(line, raw_date, errors)
    spend = _spend(line, _cell(values, mapping, "spend"), errors)
    counts = _counts(line, {n: _cell(values, mapping, n) for n in ("impressions", "clicks")}, errors)
    campaign_text = _cell_text(_cell(values, mapping, "campaign"))
    found = _target(line, _cell_text(_cell(values, mapping, "channel")), campaign_text, lookup, errors)
    if found.new_campaign and found.channel is not None:
        out.missing_campaigns.setdefault((found.channel.pk, found.new_campaign.lower()), found.channel)
        if not create_missing:
            reason = str(_("unknown campaign of this channel"))
            errors.append(RowError(line, "campaign", "unknown_campaign", reason, campaign_text))
    key: tuple[Any, ...] | None = None
    if day is not None and found.channel is not None:
        key = (
            ("campaign", found.campaign.pk if found.campaign else found.new_campaign.lower(), day)
            if campaign_text
            else ("channel", found.channel.pk, day)
        )
    if spend and found.channel is not None and found.channel.kind == ChannelKind.FREE:
        reason = str(_("a free channel has no spend"))
        errors.append(RowError(line, "channel", "free_channel", reason, found.channel.name))
    if errors or day is None or spend is None or found.channel is None:
        return None, errors, key
    row = SpendRow(
        line=line,
        date=day,
        channel=found.channel,
        campaign=found.campaign,
        spend=Money.of(spend, currency),
        impressions=counts["impressions"],
        clicks=counts["clicks"],
        new_campaign=found.new_campaign,
    )
    return row, errors, key


def parse(
    *, org: Organization, table: Table, mapping: dict[str, int | None], create_missing: bool = False
) -> Preview:
    """Check every row. Unknown campaigns of a known channel are errors unless ``create_missing``."""
    lookup = _lookup(org)
    out = Preview(total=Money.zero(org.currency))
    seen: dict[tuple[Any, ...], int] = {}
    for line, values in table.rows:
        row, errors, key = _parse_row(line, values, mapping, lookup, out, create_missing, org.currency)
        if key is not None:
            _duplicate(line, key, seen, _cell(values, mapping, "date"), errors)
        if errors or row is None:
            out.errors.extend(errors)
            continue
        out.rows.append(row)
        out.total += row.spend
    return out

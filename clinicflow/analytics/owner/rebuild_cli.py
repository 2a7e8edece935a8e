"""``clinicflow analytics rebuild [--org SLUG] [--from DATE] [--chunk-days N] [--quiet]``: the daily facts
of the owner's reports built again from the raw tables (``owner.facts.rebuild``), with a progress line
per chunk of days and a summary. ``clinicflow report facts_rebuild`` is the same (kept as an alias)."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from typing import Any, Protocol

from django.core.management.base import CommandError

from clinicflow.analytics.owner.facts import CHUNK_DAYS, BuildStats, data_span, rebuild
from clinicflow.core.models import Organization
from clinicflow.core.selectors import organization_find


class Writer(Protocol):
    def write(self, msg: str, /) -> Any: ...
    def flush(self) -> Any: ...


DEFAULT_CHUNK_DAYS = CHUNK_DAYS
DESCRIPTION = (
    "Rebuild the daily facts that the owner's home, funnel, scorecards and reports read, from the raw "
    "tables (appointments, payments, calls, leads, patients, survey answers). Without --from every "
    "fact of the organisation is deleted and built again from its first day with data; with --from "
    "only the days from that date on are built again. The worker keeps the facts current as rows "
    "change, so a rebuild is needed after an import, a bulk change or a change of definition. Prints "
    "a line per chunk of days (its number of the total, the days, the facts written, the time taken), "
    "a line as each long phase ends (the day and revenue facts, the first visits, the channel, cohort, "
    "capacity, front-desk and traffic facts ...) with the seconds it took, and a summary at the end."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--org",
        metavar="SLUG",
        help="the organisation to rebuild, by its slug (default: every organisation, one after another)",
    )
    parser.add_argument(
        "--from",
        dest="date_from",
        metavar="DATE",
        help="rebuild only the local days from DATE (YYYY-MM-DD) on and keep the facts before it "
        "(default: delete every fact of the organisation and rebuild from its first day with data)",
    )
    parser.add_argument(
        "--chunk-days",
        type=int,
        default=DEFAULT_CHUNK_DAYS,
        metavar="N",
        help=f"days built and committed together, one progress line each (default {DEFAULT_CHUNK_DAYS}); "
        "smaller chunks hold less memory and report more often",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="print only the summary, no progress line per chunk or phase"
    )


def _date(raw: str | None) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"--from: expected YYYY-MM-DD, got {raw!r}") from exc


def _orgs(slug: str | None) -> list[Organization]:
    if slug:
        org = organization_find(slug=slug)
        if org is None:
            raise CommandError(f"no organisation with slug {slug!r}")
        return [org]
    return list(Organization.objects.order_by("slug"))


def _chunks(first: dt.date, last: dt.date, chunk_days: int) -> int:
    return max(0, ((last - first).days + chunk_days) // chunk_days)


def run(options: dict[str, Any], out: Writer) -> BuildStats:
    """Rebuild as ``options`` say, writing progress and the summary to ``out``."""
    start = _date(options.get("date_from"))
    raw_chunk = options.get("chunk_days")
    chunk_days = DEFAULT_CHUNK_DAYS if raw_chunk is None else int(raw_chunk)
    if chunk_days < 1:
        raise CommandError("--chunk-days: must be at least 1")
    quiet = bool(options.get("quiet"))
    orgs = _orgs(options.get("org"))
    began = time.perf_counter()
    total = BuildStats(days=0, day_rows=0, revenue_rows=0)

    def write(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    for n_org, org in enumerate(orgs, 1):
        span = data_span(org)
        if span is None:
            write(f"[{n_org}/{len(orgs)}] {org.slug}: no raw data, nothing to build")
            continue
        first = start or span[0]
        chunks = _chunks(first, span[1], chunk_days)
        write(
            f"[{n_org}/{len(orgs)}] {org.slug}: {first.isoformat()}..{span[1].isoformat()}, "
            f"{chunks} chunk(s) of up to {chunk_days} days"
        )
        done = 0
        t0 = time.perf_counter()

        def progress(line: str, org_slug: str = org.slug, chunks: int = chunks, t0: float = t0) -> None:
            nonlocal done
            done += 1
            if not quiet:
                pct = 100 * done // max(chunks, 1)
                write(f"  {done}/{chunks} ({pct}%) {line} [{time.perf_counter() - t0:.1f} s]")

        def phase(line: str) -> None:
            if not quiet:
                write(f"  {line}")

        stats = rebuild(org, start, chunk_days=chunk_days, progress=progress, phases=phase)
        total = BuildStats(
            days=total.days + stats.days,
            day_rows=total.day_rows + stats.day_rows,
            revenue_rows=total.revenue_rows + stats.revenue_rows,
        )
        write(f"  {org.slug}: {stats.summary()} in {time.perf_counter() - t0:.1f} s")
    write(
        f"facts rebuilt: {len(orgs)} organisation(s), {total.summary()} "
        f"in {time.perf_counter() - began:.1f} s"
    )
    return total

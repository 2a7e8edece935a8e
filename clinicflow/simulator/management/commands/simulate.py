"""``clinicflow simulate``: generate a clinic with planted truth into the configured database."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.text import slugify

from clinicflow.core.models import Organization, Region
from clinicflow.core.services import organization_create
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import ScenarioError, load_scenario


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--end-date: not an ISO date YYYY-MM-DD: {text!r}") from exc


class Command(BaseCommand):
    help = (
        "Generate a clinic's months of activity with planted, known parameters. Calls, patients, "
        "appointments, payments, surveys, … are written into an organisation. Same seed and scenario "
        "give the same rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scenario",
            default=None,
            help="Scenario TOML file (merged over the bundled default.toml), or the name of a "
            "bundled one: default, mid, other, chain-1m.",
        )
        parser.add_argument("--org", required=True, help="Slug of the organisation to fill.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--truth",
            default=None,
            metavar="FILE.json",
            help="Write the planted parameters and the realised figures to this JSON file.",
        )
        parser.add_argument("--months", type=int, default=None, help="Override clinic.months.")
        parser.add_argument(
            "--patients",
            type=int,
            default=None,
            help="Override clinic.patients: rescale demand to about this many patients.",
        )
        parser.add_argument(
            "--end-date", default=None, help="Last simulated day, YYYY-MM-DD (default: today)."
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the organisation's previous simulated data first (patients, "
            "appointments, calls, … in every table the simulator writes).",
        )
        parser.add_argument(
            "--create-org",
            default=None,
            metavar="NAME",
            help="Create the organisation (with this display name) if it does not exist, "
            "in the scenario's country and currency.",
        )
        parser.add_argument("--quiet", action="store_true", help="Print only the summary.")

    def handle(self, *args: Any, **o: Any) -> None:
        overrides: dict[str, Any] = {"clinic": {}}
        if o["months"] is not None:
            if o["months"] < 1:
                raise CommandError("--months: must be at least 1")
            overrides["clinic"]["months"] = o["months"]
        if o["patients"] is not None:
            if o["patients"] < 1:
                raise CommandError("--patients: must be at least 1")
            overrides["clinic"]["patients"] = o["patients"]
        if o["end_date"]:
            overrides["clinic"]["end_date"] = _date(o["end_date"]).isoformat()
        try:
            scn = load_scenario(o["scenario"], overrides=overrides)
        except ScenarioError as exc:
            raise CommandError(f"scenario: {exc}") from exc
        slug = o["org"]
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            if not o["create_org"]:
                raise CommandError(f"--org: no organisation {slug!r} (use --create-org NAME to create it)")
            region = {"RU": Region.RU, "CN": Region.CN}.get(scn.country, Region.OTHER)
            org = organization_create(
                name=o["create_org"],
                slug=slugify(slug),
                country=scn.country,
                currency=scn.currency,
                data_region=region,
                default_language=scn.language,
            )
        if org.currency != scn.currency:
            self.stderr.write(
                f"note: organisation currency {org.currency} differs from the scenario's "
                f"{scn.currency}; branch currencies are used for prices."
            )
        out = self.stdout
        quiet = o["quiet"]

        def progress(phase: str, rows: int, seconds: float) -> None:
            if not quiet:
                rate = rows / seconds if seconds > 0 else 0.0
                out.write(f"  {phase:<16} {rows:>12,} rows  {seconds:7.1f} s  {rate:>10,.0f} rows/s")
                sys.stdout.flush()

        if not quiet:
            out.write(
                f"Simulating {scn.months} months of {scn.name!r} into {org.slug!r} "
                f"(scenario {scn.source}, seed {o['seed']}, ending {scn.end_date})"
            )
        result = simulate_org(
            org=org, scenario=scn, seed=o["seed"], reset=o["reset"], truth_path=o["truth"], progress=progress
        )
        print_summary(out, result)
        if o["truth"]:
            out.write(f"truth written to {o['truth']}")


def print_summary(out: Any, result: Any) -> None:
    out.write("")
    out.write(f"{'table':<34} {'rows':>12} {'seconds':>9}")
    for label, n in sorted(result.rows.items(), key=lambda kv: -kv[1]):
        out.write(f"{label:<34} {n:>12,} {result.write_seconds.get(label, 0.0):>9.2f}")
    total = result.total_rows
    out.write(
        f"{'total':<34} {total:>12,} {result.seconds:>9.2f}   "
        f"({total / max(result.seconds, 1e-9):,.0f} rows/s)"
    )
    truth = result.truth
    out.write("")
    out.write(f"{'administrator':<28} {'planted':>8} {'realised':>9}")
    for a in truth["administrators"]:
        out.write(
            f"{a['name']:<28} {a['planted']['conversion']:>8.3f} {a['realised']['conversion'] or 0:>9.3f}"
        )
    out.write(f"{'doctor':<28} {'NPS pl.':>8} {'NPS real':>9} {'CLV':>12}")
    for d in truth["doctors"]:
        out.write(
            f"{d['name']:<28} {d['planted']['nps']:>8.1f} {d['realised']['nps'] or 0:>9.1f} "
            f"{d['realised']['clv'] or 0:>12,.0f}"
        )
    ap = truth["appointments"]
    out.write(
        f"no-show planted {ap['planted']['no_show']:.3f}, realised {ap['realised']['no_show']}; "
        f"price elasticity planted {truth['price_elasticity']['planted']['calls_change_per_step']}, "
        f"realised {truth['price_elasticity']['realised']['calls_change_per_step']}"
    )

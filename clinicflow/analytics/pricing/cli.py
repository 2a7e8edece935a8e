"""``clinicflow analytics whatif``: the what-if planner from the command line::

    clinicflow analytics whatif --org demo --months 6 \\
        --set first_visit_price=2250 --set channels.search_ads.monthly_spend=390000 [--json]

The lever names are the simulator's ``[[changes]]`` names. The text summary prints the history the
model rests on, the levers (now → set), then month by month the unique calls, first visits and
revenue with their 95% intervals, the load and the binding limit, and the totals against the
baseline (no lever moved). ``--json`` prints ``{"months": [...], "totals": {...}, ...}``."""

from __future__ import annotations

import datetime as dt
import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError, OutputWrapper

from clinicflow.analytics.pricing import services as svc
from clinicflow.analytics.pricing.compare import compare_first_patients
from clinicflow.analytics.pricing.levers import LEVER_NAMES, LeverError, parse_assignments
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import Organization


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--org", metavar="SLUG", required=True, help="the organisation whose history is fitted"
    )
    parser.add_argument(
        "--months",
        type=int,
        default=6,
        metavar="N",
        help="months to predict after the last whole month of history (1-24, default 6)",
    )
    parser.add_argument(
        "--set",
        dest="levers",
        action="append",
        default=[],
        metavar="LEVER=VALUE",
        help="move a lever from the first predicted month (repeatable); levers: " + ", ".join(LEVER_NAMES),
    )
    parser.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="fit on the whole months before this date (default: today); the prediction starts in its month",
    )
    parser.add_argument(
        "--compare",
        type=int,
        default=0,
        metavar="N",
        help="also print seed 004's comparison: the monthly cost of N more first patients by a price cut "
        "against each paid channel",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the prediction as JSON instead of the summary"
    )


def run(options: dict[str, Any], out: OutputWrapper, err: OutputWrapper) -> None:
    org = Organization.objects.filter(slug=options["org"]).first()
    if org is None:
        raise CommandError(f"--org: no organisation {options['org']!r}")
    try:
        levers = dict(parse_assignments(options["levers"]))
        err.write("Fitting the planner on the history...\n")
        plan = svc.plan_predict(org=org, levers=levers, months=options["months"], as_of=options["as_of"])
    except LeverError as exc:
        raise CommandError(f"--set {exc}") from None
    except ValidationFailed as exc:
        raise CommandError(str(exc)) from None
    comparison = compare_first_patients(plan.model, options["compare"]) if options["compare"] else None
    if options["json"]:
        body = {**plan.prediction.as_json(), "baseline_totals": plan.baseline.totals}
        if comparison is not None:
            body["comparison"] = comparison.as_json()
        out.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
        return
    _summary(plan, out)
    if comparison is not None:
        out.write(f"\n{comparison.extra} more first patients a month (now {comparison.first_visits:.0f}):\n")
        for w in comparison.ways:
            if w.cost is None:
                out.write(f"  {w.label:<24} cannot buy them\n")
            else:
                out.write(
                    f"  {w.label:<24} {w.lever}={w.value}  net cost {w.cost} {comparison.currency}/month\n"
                )


def _summary(plan: svc.Plan, out: OutputWrapper) -> None:
    m, p, b = plan.model, plan.prediction, plan.baseline
    cur = m.currency
    out.write(
        f"History {m.months[0]:%Y-%m}..{m.last_month:%Y-%m} ({len(m.months)} months), "
        f"fitted in {m.fit_seconds:.1f} s\n"
    )
    now = m.current()
    if p.levers:
        for name, value in p.levers.items():
            out.write(f"  {name}: {now.get(name, '?')} -> {value}\n")
    else:
        out.write("  no lever moved: the baseline\n")
    out.write(
        f"{'month':<8} {'calls':>16} {'first visits':>16} {'revenue (' + cur + ')':>34} {'load':>5}  limit\n"
    )
    for row in p.months:
        lo, hi = row["low"], row["high"]
        out.write(
            f"{row['month']:<8} {row['unique_calls']:>6.0f}"
            f" [{lo['unique_calls']:.0f}-{hi['unique_calls']:.0f}]"
            f" {row['first_visits']:>6.0f} [{lo['first_visits']:.0f}-{hi['first_visits']:.0f}]"
            f" {row['revenue']:>14} [{lo['revenue']}-{hi['revenue']}]"
            f" {row['load']:>5.0%}  {row['binding_limit']}\n"
        )
    t, bt = p.totals, b.totals
    for k, label in (
        ("unique_calls", "unique calls"),
        ("first_visits", "first visits"),
        ("revenue", "revenue"),
    ):
        change = float(t[k]) - float(bt[k])
        out.write(
            f"Total {label}: {t[k]} (95% {t['low'][k]}..{t['high'][k]}); "
            f"baseline {bt[k]}; change {change:+,.0f}\n"
        )
    out.write(f"Gross margin {t['gross_margin']} {cur}, ad spend {t['ad_spend']} {cur}\n")

"""``clv_calibration`` management command: the calibration and hold-out check of the BG/NBD visit
model on an organisation's payments (``docs/clv.md``)::

    clinicflow clv_calibration --org demo [--cut 2026-05-22] [--holdout-months 6] [--format csv]

It fits on the visits up to the cut (default: 18 months after the first visit), predicts each
patient's visits in the hold-out months after it and prints, per decile of predicted visits, the
patients, the mean predicted and actual visits and their difference, then the ratio of total
predicted to total actual visits and the mean absolute error per patient. With ``--format csv`` the
table goes to stdout as CSV and the summary to stderr. Exit codes: 2 bad input, 3 the model cannot
be fitted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicflow.analytics.clv.calibration import Calibration, CalibrationError, calibrate_org
from clinicflow.analytics.clv.org_source import UnknownOrganisation
from clinicflow.analytics.clv.special import FitFailed, SeriesDidNotConverge

EXIT_INPUT = 2
EXIT_MODEL = 3


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--cut: not a date YYYY-MM-DD: {text!r}", returncode=EXIT_INPUT) from exc


class Command(BaseCommand):
    help = (
        "Check the lifetime-value visit model on the visits after a cut date, by decile. It fits on "
        "the visits up to the cut, predicts each patient's visits in the next months and compares."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", metavar="SLUG", required=True, help="the organisation's slug")
        parser.add_argument(
            "--cut",
            metavar="DATE",
            help="last day of the calibration period (default: 18 months after the first visit)",
        )
        parser.add_argument(
            "--holdout-months",
            type=int,
            default=6,
            metavar="N",
            help="months after the cut whose visits are predicted (default 6; the data's end at the latest)",
        )
        parser.add_argument("--format", choices=("table", "csv"), default="table", help="output format")

    def handle(self, *args: Any, **options: Any) -> None:
        cut = _date(options["cut"]) if options.get("cut") else None
        slug = options["org"]
        try:
            result = calibrate_org(slug, cut=cut, holdout_months=options["holdout_months"])
        except (UnknownOrganisation, CalibrationError) as exc:
            raise CommandError(str(exc), returncode=EXIT_INPUT) from exc
        except (FitFailed, SeriesDidNotConverge) as exc:
            raise CommandError(
                f"the BG/NBD model cannot describe the calibration period: {exc}", returncode=EXIT_MODEL
            ) from exc
        if options["format"] == "csv":
            self.stdout.write(csv_table(result), ending="")
            self.stderr.write("\n".join(summary_lines(result)))
        else:
            self.stdout.write("\n".join(table_lines(slug, result)))


def csv_table(c: Calibration) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["decile", "patients", "mean_predicted", "mean_actual", "error"])
    for row in c.deciles:
        writer.writerow(
            [
                row.decile,
                row.patients,
                f"{row.mean_predicted:.4f}",
                f"{row.mean_actual:.4f}",
                f"{row.error:.4f}",
            ]
        )
    mp, ma = c.total_predicted / c.patients, c.total_actual / c.patients
    writer.writerow(["all", c.patients, f"{mp:.4f}", f"{ma:.4f}", f"{mp - ma:.4f}"])
    return out.getvalue()


def summary_lines(c: Calibration) -> list[str]:
    return [
        f"total predicted {c.total_predicted:,.1f} / total actual {c.total_actual:,} visits = "
        f"ratio {c.ratio:.3f} (1 = right in total; below 1: the model expects too few)",
        f"mean absolute error per patient: {c.mae:.3f} visits",
    ]


def table_lines(slug: str, c: Calibration) -> list[str]:
    fit, s = c.fit, c.summary
    p, se = fit.params, fit.std_err
    first_day = c.cut - dt.timedelta(days=round(float(s.T.max()) * 7)) if len(s) else c.cut
    lines = [
        f"BG/NBD calibration and hold-out check for {slug} (visits = days with a payment; times in weeks)",
        f"calibration period: {first_day} to {c.cut}: {c.patients:,} patients, "
        f"{int((s.frequency > 0).sum()):,} with repeat visits, {int(s.frequency.sum()):,} repeat visits",
        f"hold-out period: {c.cut + dt.timedelta(days=1)} to {c.end} ({c.holdout_weeks:.1f} weeks)",
    ]
    if fit.boundary is not None and fit.p_dropout is not None:
        lines.append(
            f"fit: r = {p.r:.4g} ± {se.r:.2g}   alpha = {p.alpha:.4g} ± {se.alpha:.2g}   "
            f"dropout the same for every patient: p = {fit.p_dropout:.4g} (a, b at the bound)"
        )
    else:
        lines.append(
            f"fit: r = {p.r:.4g} ± {se.r:.2g}   alpha = {p.alpha:.4g} ± {se.alpha:.2g}   "
            f"a = {p.a:.4g} ± {se.a:.2g}   b = {p.b:.4g} ± {se.b:.2g}"
        )
    lines += [
        "",
        f"{'decile of predicted visits':<28}{'patients':>10}{'predicted':>11}{'actual':>9}{'error':>9}",
    ]
    last = len(c.deciles)
    for row in c.deciles:
        label = f"{row.decile}" + (
            " (lowest)" if row.decile == 1 else " (highest)" if row.decile == last else ""
        )
        lines.append(
            f"{label:<28}{row.patients:>10,}{row.mean_predicted:>11.3f}{row.mean_actual:>9.3f}{row.error:>+9.3f}"
        )
    mp, ma = c.total_predicted / c.patients, c.total_actual / c.patients
    lines += [f"{'all':<28}{c.patients:>10,}{mp:>11.3f}{ma:>9.3f}{mp - ma:>+9.3f}", ""]
    return lines + summary_lines(c)

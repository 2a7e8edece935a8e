"""The ``analytics clv`` command line: options, input, the models, output.

:func:`add_arguments` defines the options on an ``argparse`` parser (the management
command passes its ``clv`` sub-parser).  :func:`run` executes with the parsed options
and returns an exit code; :func:`execute` does the same but raises :class:`ClvError`.

Hook for the database mode: when ``--transactions`` is absent, ``rows_loader`` (a
callable taking no arguments and returning ``(patient_id, date, amount)`` rows) is
used instead.  The management command builds it from ``--org SLUG``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from clinicflow.analytics.clv import report
from clinicflow.analytics.clv.io import FileUnreadable, read_transactions
from clinicflow.analytics.clv.predict import MONTH_IN_UNITS, ClvResult, analyse
from clinicflow.analytics.clv.special import FitFailed, SeriesDidNotConverge
from clinicflow.analytics.clv.summary import TimeUnit, summarise
from clinicflow.core.money import CURRENCIES

RowsLoader = Callable[[], Iterable[tuple[str, dt.date, Decimal]]]
# Names the listed patients of the text summary: their ids -> name and card link.
Labeller = Callable[[Sequence[str]], Mapping[str, report.PatientLabel]]

EXIT_INPUT = 2  # bad options, unreadable file or bad rows
EXIT_MODEL = 3  # the models cannot describe the data


class TextSink(Protocol):
    def write(self, text: str, /) -> Any: ...


class ClvError(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date (YYYY-MM-DD)") from None


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a decimal number") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Define the ``clv`` options on ``parser``."""
    parser.add_argument(
        "--transactions",
        metavar="FILE",
        help="CSV or XLSX file with a header row and columns patient_id,date,amount "
        "(ISO dates, decimal amounts; other columns are ignored)",
    )
    parser.add_argument(
        "--until",
        type=_iso_date,
        default=None,
        metavar="DATE",
        help="last day of the observation period (YYYY-MM-DD); later transactions are ignored "
        "(required with --transactions; with --org it defaults to today)",
    )
    parser.add_argument(
        "--time-unit",
        choices=("week", "day"),
        default="week",
        help="unit of recency, T, alpha and --predict: week (7 days, the default) or day",
    )
    parser.add_argument(
        "--predict",
        type=float,
        default=None,
        metavar="N",
        help="report expected visits over the next N time units "
        "(default: the CLV horizon, --horizon-months in time units)",
    )
    parser.add_argument(
        "--horizon-months",
        type=int,
        default=12,
        metavar="H",
        help="CLV horizon in months of 4.345 weeks / 30.4375 days (default 12)",
    )
    parser.add_argument(
        "--discount-monthly",
        type=_decimal,
        default=Decimal("0.01"),
        metavar="D",
        help="monthly discount rate d; month k is divided by (1 + d)^k (default 0.01)",
    )
    parser.add_argument(
        "--margin",
        type=_decimal,
        default=Decimal("1.0"),
        metavar="M",
        help="gross margin applied to revenue, e.g. 0.6 for 60%% (default 1.0: revenue)",
    )
    parser.add_argument(
        "--skip-bad-rows",
        action="store_true",
        help="leave out rows that cannot be read (they are listed on stderr) instead of stopping",
    )
    parser.add_argument(
        "--top",
        type=int,
        default=10,
        metavar="K",
        help="number of patients listed in the text summary (default 10)",
    )
    parser.add_argument(
        "--currency",
        choices=CURRENCIES,
        default=None,
        metavar="CODE",
        help="ISO 4217 code of the amounts, printed with the money of the text summary "
        f"({', '.join(CURRENCIES)}; default none: plain figures; with --org the organisation's currency)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print parameters and the patient table as JSON")
    output.add_argument(
        "--csv",
        metavar="OUT",
        help="write the patient table as CSV to OUT ('-' for standard output)",
    )


def run(
    options: dict[str, Any],
    stdout: TextSink,
    stderr: TextSink,
    rows_loader: RowsLoader | None = None,
) -> int:
    """Run ``clv`` with parsed options; messages go to ``stderr``.  Returns the exit code."""
    try:
        execute(options, stdout, stderr, rows_loader)
    except ClvError as exc:
        stderr.write(f"error: {exc}\n")
        return exc.exit_code
    return 0


def execute(
    options: dict[str, Any],
    stdout: TextSink,
    stderr: TextSink,
    rows_loader: RowsLoader | None = None,
    labeller: Labeller | None = None,
) -> ClvResult:
    """Like :func:`run`, but raises :class:`ClvError` (message and exit code) on failure.

    Returns the fitted models and predictions after writing the output. ``options["currency"]``
    puts the currency on the text summary's money; ``labeller`` names its listed patients.
    """
    until = _option_date(options.get("until"))
    time_unit: TimeUnit = "day" if options.get("time_unit") == "day" else "week"
    horizon_option = options.get("horizon_months")
    horizon = 12 if horizon_option is None else int(horizon_option)
    discount = _option_decimal(options.get("discount_monthly"), "0.01", "--discount-monthly")
    margin = _option_decimal(options.get("margin"), "1.0", "--margin")
    predict_units = options.get("predict")
    predict_units = horizon * MONTH_IN_UNITS[time_unit] if predict_units is None else float(predict_units)
    if horizon < 0:
        raise ClvError("--horizon-months must not be negative", EXIT_INPUT)
    if predict_units < 0:
        raise ClvError("--predict must not be negative", EXIT_INPUT)
    if discount < 0:
        raise ClvError("--discount-monthly must not be negative", EXIT_INPUT)
    if margin < 0:
        raise ClvError("--margin must not be negative", EXIT_INPUT)

    rows = _load_rows(options, stderr, rows_loader)
    summary = summarise(rows, until=until, time_unit=time_unit)
    try:
        result = analyse(
            summary,
            predict_units=predict_units,
            horizon_months=horizon,
            discount_monthly=float(discount),
            margin=float(margin),
        )
    except FitFailed as exc:
        raise ClvError(f"the CLV models cannot describe these data: {exc}", EXIT_MODEL) from exc
    except SeriesDidNotConverge as exc:
        raise ClvError(f"the CLV prediction did not converge: {exc}", EXIT_MODEL) from exc

    if options.get("json"):
        stdout.write(json.dumps(report.as_json(result), indent=2) + "\n")
    elif options.get("csv"):
        _write_csv(str(options["csv"]), report.csv_rows(result), stdout)
    else:
        top = int(options.get("top") or 10)
        labels = labeller(report.top_patient_ids(result, top)) if labeller is not None else None
        currency = options.get("currency") or None
        stdout.write(report.text_summary(result, top=top, currency=currency, labels=labels))
    if options.get("json") or options.get("csv"):
        # The text summary carries these notes; machine-readable output keeps them apart.
        for note in report.boundary_notes(result):
            stderr.write(note + "\n")
    return result


def _load_rows(
    options: dict[str, Any], stderr: TextSink, rows_loader: RowsLoader | None
) -> list[tuple[str, dt.date, Decimal]]:
    path = options.get("transactions")
    if not path:
        if rows_loader is None:
            raise ClvError("give the transactions with --transactions FILE", EXIT_INPUT)
        return list(rows_loader())
    try:
        read = read_transactions(path)
    except FileUnreadable as exc:
        raise ClvError(str(exc), EXIT_INPUT) from exc
    if read.errors:
        for error in read.errors:
            stderr.write(f"{path}: {error}\n")
        bad_lines = len({e.line for e in read.errors})
        if not options.get("skip_bad_rows"):
            raise ClvError(
                f"{bad_lines} bad row{'s' if bad_lines != 1 else ''} in {path}; "
                "correct them or pass --skip-bad-rows",
                EXIT_INPUT,
            )
        stderr.write(f"warning: skipped {bad_lines} bad row{'s' if bad_lines != 1 else ''} in {path}\n")
    return list(read.rows)


def _write_csv(target: str, rows: list[list[str]], stdout: TextSink) -> None:
    if target == "-":
        writer = csv.writer(stdout, lineterminator="\n")
        writer.writerows(rows)
        return
    try:
        with open(target, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)
    except OSError as exc:
        raise ClvError(f"cannot write {target}: {exc.strerror}", EXIT_INPUT) from exc


def _option_date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return _iso_date(value)
        except argparse.ArgumentTypeError as exc:
            raise ClvError(f"--until: {exc}", EXIT_INPUT) from exc
    raise ClvError("--until DATE is required", EXIT_INPUT)


def _option_decimal(value: object, default: str, name: str) -> Decimal:
    if value is None:
        return Decimal(default)
    try:
        return _decimal(str(value))
    except argparse.ArgumentTypeError as exc:
        raise ClvError(f"{name}: {exc}", EXIT_INPUT) from exc


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (without Django): ``python -m clinicflow.analytics.clv.cli``."""
    parser = argparse.ArgumentParser(prog="clinicflow analytics clv", description=__doc__)
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    return run(options, sys.stdout, sys.stderr)


if __name__ == "__main__":
    sys.exit(main())

"""``clinicflow report <name> --org SLUG --from DATE --to DATE [--branch B] [--json|--csv FILE]``: any
registered report on the console (the same figures as its page, API and exports).

``clinicflow report list`` names the reports; ``clinicflow report facts_rebuild --org SLUG [--from DATE]``
is kept as an alias of ``clinicflow analytics rebuild`` (the daily facts the owner's reports read)."""

from __future__ import annotations

import csv
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

import clinicflow.analytics.reports.owner  # noqa: F401 - registers the owner's reports
from clinicflow.analytics.owner import rebuild_cli
from clinicflow.analytics.reports.base import (
    build_context,
    get_report,
    json_value,
    load_reports,
    result_to_json,
    run_report,
)
from clinicflow.core.errors import DomainError, NotFound
from clinicflow.core.selectors import organization_find

REBUILD = "facts_rebuild"


class Command(BaseCommand):
    help = (
        "Run any registered report for an organisation and print it as a table, JSON or CSV. "
        "Names: channels, administrators, capacity_load, owner_home, revenue, cohorts and the rest "
        "('list' names them all); 'facts_rebuild' rebuilds the daily facts "
        "(an alias of 'clinicflow analytics rebuild')."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the report's name (snake_case), 'list' or 'facts_rebuild'")
        parser.add_argument("--org", help="the organisation's slug (required except for 'list')")
        parser.add_argument(
            "--from",
            dest="date_from",
            metavar="DATE",
            help="first day, YYYY-MM-DD (default: the report's period)",
        )
        parser.add_argument(
            "--to", dest="date_to", metavar="DATE", help="last day, YYYY-MM-DD (default: today)"
        )
        parser.add_argument("--branch", help="a branch's slug or id (default: the whole chain)")
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a report parameter, e.g. --param model=first_touch or --param by=doctor (repeatable)",
        )
        out = parser.add_mutually_exclusive_group()
        out.add_argument(
            "--json", action="store_true", help="print the report as JSON (as the API returns it)"
        )
        out.add_argument(
            "--csv", metavar="FILE", help="write the rows as CSV to FILE ('-' for standard output)"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        name = opts["name"]
        if name == "list":
            for spec in sorted(load_reports().values(), key=lambda s: s.name):
                self.stdout.write(f"{spec.name}\t{spec.title}")
            return
        if not opts["org"]:
            raise CommandError("--org SLUG is required")
        org = organization_find(slug=opts["org"])
        if org is None:
            raise CommandError(f"no organisation with slug {opts['org']!r}")
        if name == REBUILD:
            rebuild_cli.run({"org": org.slug, "date_from": opts["date_from"]}, self.stdout)
            return
        try:
            spec = get_report(name)
        except NotFound as exc:
            raise CommandError(f"unknown report {name!r}; 'clinicflow report list' names them") from exc
        query: dict[str, str] = {}
        for item in opts["param"]:
            key, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--param {item!r}: expected KEY=VALUE")
            query[key.strip()] = value.strip()
        for key, opt in (("from", "date_from"), ("to", "date_to"), ("branch", "branch")):
            if opts[opt]:
                query[key] = opts[opt]
        try:
            ctx = build_context(spec, org=org, user=None, query=query)
            result = run_report(spec, ctx)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        data = result_to_json(spec, ctx, result)
        if opts["json"]:
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        if opts["csv"]:
            self._csv(data, opts["csv"])
        else:
            self._table(data)

    def _csv(self, data: dict[str, Any], path: str) -> None:
        keys = [c["key"] for c in data["columns"]]
        rows = data["rows"] + ([data["totals"]] if data["totals"] else [])
        if path == "-":
            self._write_csv(sys.stdout, keys, rows)
            return
        try:
            with open(path, "w", newline="", encoding="utf-8") as target:
                self._write_csv(target, keys, rows)
        except OSError as exc:
            raise CommandError(f"--csv: cannot write {path}: {exc.strerror}") from exc

    @staticmethod
    def _write_csv(target: Any, keys: list[str], rows: list[dict[str, Any]]) -> None:
        writer = csv.writer(target)
        writer.writerow(keys)
        for row in rows:
            writer.writerow(["" if row.get(k) is None else json_value(row.get(k)) for k in keys])

    def _table(self, data: dict[str, Any]) -> None:
        keys = [c["key"] for c in data["columns"]]
        rows = data["rows"] + ([data["totals"]] if data["totals"] else [])
        self.stdout.write(f"{data['title']} {data['from']}..{data['to']} ({data['currency']})")
        self.stdout.write("\t".join(c["label"] for c in data["columns"]))
        for row in rows:
            self.stdout.write("\t".join("" if row.get(k) is None else str(row.get(k)) for k in keys))
        for note in data["notes"]:
            self.stdout.write(f"* {note}")

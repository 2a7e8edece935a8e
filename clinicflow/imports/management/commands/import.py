"""``clinicflow import KIND FILE --org SLUG``: import patients, visits, payments or ad spend from CSV/XLSX."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicflow.core.errors import DomainError
from clinicflow.core.models import Organization
from clinicflow.core.selectors import branch_find, branch_list
from clinicflow.imports import selectors, services
from clinicflow.imports.engine import fields as specs
from clinicflow.imports.engine.clean import Ctx
from clinicflow.imports.engine.rows import describe, preview
from clinicflow.imports.files import FileProblem, check_size, open_source, read_table
from clinicflow.imports.models import ImportJob, ImportKind, JobStatus, Mode, OnDuplicate


class Command(BaseCommand):
    help = (
        "Import patients, visits, payments or ad spend from a CSV or XLSX file into an organisation. "
        "Visits bring their services and doctors (matched or created); re-importing the same file "
        "changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "kind", choices=ImportKind.values, help="what the file holds: " + ", ".join(ImportKind.values)
        )
        parser.add_argument(
            "file",
            help=(
                "the .csv (UTF-8, Windows-1251 or GB18030) or .xlsx file; or a .json response of the "
                "YCLIENTS API v2: /clients for patients, /records for visits"
            ),
        )
        parser.add_argument(
            "--org", required=True, help="slug of the organisation the rows go to (whatever the file says)"
        )
        parser.add_argument(
            "--branch",
            default="",
            help=(
                "branch slug or id: its time zone reads the dates, its currency the money "
                "(default: the first branch)"
            ),
        )
        parser.add_argument(
            "--source",
            default="",
            help=(
                "name of the system the file comes from; source ids are unique per source "
                "(default: the mapping name, else 'file')"
            ),
        )
        parser.add_argument(
            "--mapping",
            default="",
            help=(
                "use the column mapping saved for this source (see --save-mapping); without it the "
                "columns are guessed from the headers"
            ),
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="FIELD=HEADER",
            help="map one field to a column header (repeatable); overrides the saved or guessed mapping",
        )
        parser.add_argument(
            "--save-mapping",
            action="store_true",
            help="save the mapping used under the source name for later imports",
        )
        parser.add_argument(
            "--on-duplicate",
            choices=OnDuplicate.values,
            default=OnDuplicate.FLAG,
            help=(
                "a new patient whose phone or e-mail matches an existing one: merge into it, skip "
                "the row, or create and flag it for review (default: flag)"
            ),
        )
        parser.add_argument(
            "--mode",
            choices=Mode.values,
            default=Mode.ALL,
            help=(
                "all: any bad row and nothing is imported (default); skip-bad: import the good rows "
                "and list the bad ones"
            ),
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count everything, store nothing"
        )
        parser.add_argument(
            "--preview",
            type=int,
            default=0,
            metavar="N",
            help="show the first N rows as they will be stored and stop",
        )
        parser.add_argument(
            "--resume",
            default="",
            metavar="JOB_ID",
            help="resume a killed import job (skip-bad: after its last committed batch)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        org = Organization.objects.filter(slug=opts["org"]).first()
        if org is None:
            raise CommandError(f"no organisation with slug {opts['org']!r}")
        if opts["resume"]:
            job = self._job(org, opts["resume"])
            return self._run(job)
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        branch = (
            branch_find(org=org, key=opts["branch"])
            if opts["branch"]
            else next(iter(branch_list(org=org)), None)
        )
        if branch is None:
            raise CommandError("no such branch" if opts["branch"] else "the organisation has no branch")
        kind = opts["kind"]
        if path.suffix.lower() == ".json":
            return self._yclients(org, branch, kind, path, opts)
        source = opts["source"] or opts["mapping"] or "file"
        try:
            columns = self._columns(org, kind, path, opts)
            if opts["save_mapping"]:
                services.mapping_save(org=org, source=source, kind=kind, columns=columns)
            if opts["preview"]:
                return self._preview(org, branch, kind, source, path, columns, opts["preview"])
            with path.open("rb") as stream:
                name, ext = services.store_upload(
                    org=org, stream=stream, size=path.stat().st_size, filename=path.name
                )
            job = services.job_create(
                org=org,
                actor=None,
                branch=branch,
                kind=kind,
                source=source,
                stored_name=name,
                ext=ext,
                filename=path.name,
                columns=columns,
                mode=opts["mode"],
                on_duplicate=opts["on_duplicate"],
                dry_run=opts["dry_run"],
            )
        except (FileProblem, DomainError) as exc:
            raise CommandError(str(getattr(exc, "message", exc))) from exc
        self.stdout.write(
            f"import {job.pk}: {kind} from {path.name} into {org.slug} / {branch.slug}, mode {job.mode}"
        )
        self._run(job)

    def _yclients(self, org: Organization, branch: Any, kind: str, path: Path, opts: dict[str, Any]) -> None:
        from clinicflow.imports.yclients.services import yclients_import

        if kind not in ("patients", "visits"):
            raise CommandError("a YCLIENTS .json file holds patients (/clients) or visits (/records)")
        try:
            check_size(path.stat().st_size)
            payload = json.loads(path.read_bytes())
        except (FileProblem, ValueError) as exc:
            raise CommandError(f"{path.name}: {exc}") from exc
        result = yclients_import(
            org=org,
            branch=branch,
            kind="clients" if kind == "patients" else "records",
            payload=payload,
            on_duplicate=opts["on_duplicate"]
            if opts["on_duplicate"] != OnDuplicate.FLAG
            else OnDuplicate.MERGE,
        )
        for issue in result.issues:
            self.stdout.write(f"{issue.level}: object {issue.line}, field «{issue.field}»: {issue.problem}")
        if result.errors:
            raise CommandError("failed: nothing was imported")
        made = ", ".join(f"{k} created: {n}" for k, n in sorted(result.extra.items()))
        self.stdout.write(
            f"done: created {result.created}, updated {result.updated}, unchanged {result.unchanged}"
            + (f"; {made}" if made else "")
        )

    def _job(self, org: Organization, job_id: str) -> ImportJob:
        try:
            return selectors.job_get(org=org, job_id=job_id)
        except DomainError as exc:
            raise CommandError(f"no import {job_id} in {org.slug}") from exc

    def _columns(self, org: Organization, kind: str, path: Path, opts: dict[str, Any]) -> dict[str, str]:
        source = open_source(path, path.suffix.lstrip(".").lower())
        headers = read_table(source).headers
        if opts["mapping"]:
            saved = selectors.mapping_get(org=org, source=opts["mapping"], kind=kind)
            if saved is None:
                raise CommandError(f"no saved {kind} mapping for source {opts['mapping']!r}")
            columns = dict(saved.columns)
        else:
            columns = specs.guess_mapping(kind, headers)
        for item in opts["map"]:
            field, sep, header = item.partition("=")
            if not sep:
                raise CommandError(f"--map {item!r}: expected FIELD=HEADER")
            columns[field.strip()] = header.strip()
        problems = specs.check_mapping(kind, columns, headers)
        if problems:
            raise CommandError("column mapping: " + "; ".join(problems) + f"\nheaders in the file: {headers}")
        return columns

    def _preview(
        self,
        org: Organization,
        branch: Any,
        kind: str,
        source: str,
        path: Path,
        columns: dict[str, str],
        n: int,
    ) -> None:
        ctx = Ctx(org=org, branch=branch, source=source, kind=kind)
        result = preview(open_source(path, path.suffix.lstrip(".").lower()), kind, columns, ctx, limit=n)
        self.stdout.write("mapping: " + ", ".join(f"{k} <- {v!r}" for k, v in result.columns.items()))
        for row in result.rows:
            shown = {k: str(x) for k, x in row.values.items() if x not in ("", None, [])}
            self.stdout.write(f"line {row.line} [{row.source_id}]: {shown}")
        for issue in result.issues:
            self.stdout.write(describe(issue, result.columns))

    def _run(self, job: ImportJob) -> None:
        def progress(j: ImportJob) -> None:
            total = f"/{j.total_lines}" if j.total_lines else ""
            self.stdout.write(
                f"  {j.phase}: line {j.done_line}{total} ({j.percent}%)",
                ending="\r" if sys.stdout.isatty() else "\n",
            )

        job = services.job_run(job=job, progress=progress)
        issues = selectors.job_issues(org=job.organization, job=job, limit=50)
        for issue in issues:
            value = f" ({issue.value!r})" if issue.value else ""
            self.stdout.write(
                f"{issue.level}: line {issue.line}, column «{issue.column}»: {issue.problem}{value}"
            )
        self.stdout.write(f"{job.status}: {job.message}")
        if job.status != JobStatus.DONE:
            raise CommandError(f"import {job.pk} {job.status}")

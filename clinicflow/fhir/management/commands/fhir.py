"""``clinicflow fhir import FILE --org SLUG [--dry-run]``: import a FHIR Bundle of Patients and
Appointments into one organisation, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicflow.core.models import Organization
from clinicflow.fhir.errors import FhirError
from clinicflow.fhir.services import bundle_import

MAX_FILE_BYTES = 200 * 1024 * 1024


class Command(BaseCommand):
    help = (
        "Import a FHIR R4 Bundle of Patients and Appointments into an organisation, all or nothing. "
        "The Bundle is a transaction or a collection. Appointments are booked through the booking "
        "rules; a Patient or Appointment whose identifier was imported before is not created twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, title="actions")
        imp = sub.add_parser(
            "import",
            help="import a Bundle file (JSON)",
            description="Import a FHIR R4 Bundle of type transaction or collection holding Patient "
            "and Appointment resources. Entries reference each other by urn:uuid: fullUrls (or "
            "Patient/<id> for a patient already in Clinicflow). Nothing is stored unless every entry "
            "is accepted; the first refusal is printed as an OperationOutcome.",
        )
        imp.add_argument("file", help="path of the Bundle, a JSON file (application/fhir+json)")
        imp.add_argument(
            "--org", required=True, help="slug of the organisation to import into (whatever the file says)"
        )
        imp.add_argument(
            "--dry-run",
            action="store_true",
            help="check and apply every entry, report what would be created, then roll everything back",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        org = Organization.objects.filter(slug=opts["org"]).first()
        if org is None:
            raise CommandError(f"unknown organisation {opts['org']!r}")
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CommandError(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        try:
            bundle = json.loads(path.read_bytes())
        except (ValueError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path} is not a JSON file: {exc}") from exc
        try:
            result = bundle_import(
                org=org, actor=None, bundle=bundle, dry_run=opts["dry_run"], progress=self._progress
            )
        except FhirError as exc:
            self.stderr.write(json.dumps(exc.outcome(), ensure_ascii=False, indent=2))
            raise CommandError(
                f"nothing imported: {exc.diagnostics} (at {', '.join(exc.expression)})"
            ) from exc
        verb = "would create" if result.dry_run else "created"
        for kind in result.created:
            self.stdout.write(
                f"{kind}: {verb} {result.created[kind]}, already present {result.existing[kind]}"
            )
        self.stdout.write("dry run: nothing was stored" if result.dry_run else "imported")

    def _progress(self, done: int, total: int) -> None:
        if done % 500 == 0 or done == total:
            self.stderr.write(f"{done}/{total} entries", ending="\n")

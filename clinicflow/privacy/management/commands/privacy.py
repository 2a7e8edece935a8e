"""``clinicflow privacy``: data-subject requests and retention from the console."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicflow.core.errors import Conflict, DomainError
from clinicflow.core.models import Organization
from clinicflow.core.selectors import parse_uuid
from clinicflow.patients.models import Patient
from clinicflow.patients.services import EDITABLE_FIELDS, PatientData
from clinicflow.privacy.retention.run import retention_run
from clinicflow.privacy.rights.correct import subject_correct, subject_withdraw
from clinicflow.privacy.rights.erase import subject_erase
from clinicflow.privacy.rights.export import subject_export
from clinicflow.privacy.rights.requests import request_list
from clinicflow.privacy.rights.restrict import subject_restrict, subject_restriction_lift

ORG_HELP = "Slug of the organisation (before or after the action)."
CORRECTABLE = [f for f in EDITABLE_FIELDS if f not in ("branch", "clinical_notes")]


class Command(BaseCommand):
    help = (
        "Data-subject rights and retention. Export, correct, withdraw or erase a patient's data; restrict "
        "its processing or lift the restriction; list the request log with deadlines; run retention (with "
        "--dry-run first). Each request is logged. --org may come before or after the action."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # not required here: it may also follow the action (``privacy restrict --org SLUG ...``)
        parser.add_argument("--org", default=None, help=ORG_HELP)
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        ex = sub.add_parser(
            "export", help="Subject-access export: a ZIP of export.json, summary.pdf, photos/."
        )
        ex.add_argument("--patient", required=True, help="The patient's id (UUID).")
        ex.add_argument("--out", required=True, help="Where to write the ZIP file.")
        co = sub.add_parser("correct", help="Correct the patient's details (validated as on the card).")
        co.add_argument("--patient", required=True, help="The patient's id (UUID).")
        co.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="FIELD=VALUE",
            help=f"A field to correct, repeatable; one of {', '.join(CORRECTABLE)}; phones=+7...,+7... .",
        )
        wd = sub.add_parser(
            "withdraw", help="Withdraw consents; takes effect at once (queued marketing cancelled)."
        )
        wd.add_argument("--patient", required=True, help="The patient's id (UUID).")
        wd.add_argument(
            "--purpose", action="append", default=None, help="A purpose to withdraw (default: all)."
        )
        er = sub.add_parser(
            "erase", help="Erase or pseudonymise what the law allows; list what is held and why."
        )
        er.add_argument("--patient", required=True, help="The patient's id (UUID).")
        er.add_argument("--yes", action="store_true", help="Confirm: erasure cannot be undone.")
        rq = sub.add_parser("requests", help="The request log: kind, patient, received, due, completed.")
        rq.add_argument("--open", action="store_true", help="Only requests not yet completed.")
        rt = sub.add_parser("retention", help="Pseudonymise or delete what has passed its retention period.")
        rt.add_argument("--dry-run", action="store_true", help="Only count what would be changed.")
        rs = sub.add_parser(
            "restrict",
            help="Restrict processing (GDPR Art 18; 152-FZ blocking): records kept, consents withdrawn.",
            description=(
                "Flag the patient as restricted: left out of marketing audiences, sent only the messages of "
                "their own care; every granted optional consent (marketing, photo publication, cross-border "
                "transfer) is withdrawn at once. Logged as a restriction request with the reason."
            ),
        )
        rs.add_argument("--patient", required=True, help="The patient's id (UUID).")
        rs.add_argument(
            "--reason",
            required=True,
            help="Why (e.g. the patient contests the accuracy of their data); up to 500 characters, logged.",
        )
        lf = sub.add_parser(
            "lift",
            help="Lift the restriction of processing (tell the patient first); consents stay withdrawn.",
            description=(
                "Clear the patient's restriction flag. Consents withdrawn by the restriction stay withdrawn "
                "until the patient gives them again. Logged as a restriction request."
            ),
        )
        lf.add_argument("--patient", required=True, help="The patient's id (UUID).")
        lf.add_argument(
            "--reason", default="", help="Why it is lifted (optional; up to 500 characters, logged)."
        )
        for action in sub.choices.values():
            # the same option after the action; SUPPRESS keeps an --org given before it
            action.add_argument("--org", default=argparse.SUPPRESS, help=ORG_HELP)

    def _patient(self, org: Organization, raw: str) -> Patient:
        pk = parse_uuid(raw)
        patient = Patient.objects.for_org(org).filter(pk=pk).first() if pk else None
        if patient is None:
            raise CommandError(f"--patient: no patient {raw!r} in {org.slug}")
        return patient

    def handle(self, *args: Any, **o: Any) -> None:
        if not o.get("org"):
            raise CommandError("--org is required: the slug of the organisation")
        org = Organization.objects.filter(slug=o["org"]).first()
        if org is None:
            raise CommandError(f"--org: no organisation with slug {o['org']!r}")
        action = o["action"]
        try:
            getattr(self, f"_{action}")(org, o)
        except DomainError as exc:
            raise CommandError(f"{exc.message} {json.dumps(exc.fields)}") from exc

    def _export(self, org: Organization, o: dict[str, Any]) -> None:
        row, archive = subject_export(org=org, actor=None, patient=self._patient(org, o["patient"]))
        Path(o["out"]).write_bytes(archive)
        self.stdout.write(f"request {row.pk}: {len(archive)} bytes written to {o['out']}")

    def _correct(self, org: Organization, o: dict[str, Any]) -> None:
        data = PatientData()
        for item in o["set"]:
            name, sep, value = item.partition("=")
            if not sep or name not in [*CORRECTABLE, "phones"]:
                raise CommandError(
                    f"--set {item!r}: expected FIELD=VALUE with FIELD in {', '.join(CORRECTABLE)}"
                )
            setattr(data, name, [p for p in value.split(",") if p] if name == "phones" else value)
            data.given.add(name)
        if not data.given:
            raise CommandError("nothing to correct: give --set FIELD=VALUE")
        row = subject_correct(org=org, actor=None, patient=self._patient(org, o["patient"]), data=data)
        self.stdout.write(f"request {row.pk}: corrected {', '.join(sorted(data.given))}")

    def _withdraw(self, org: Organization, o: dict[str, Any]) -> None:
        patient = self._patient(org, o["patient"])
        row = subject_withdraw(org=org, actor=None, patient=patient, purposes=o["purpose"])
        self.stdout.write(f"request {row.pk}: withdrawn {', '.join(row.outcome['withdrawn']) or 'nothing'}")

    def _erase(self, org: Organization, o: dict[str, Any]) -> None:
        if not o["yes"]:
            raise CommandError("erasure cannot be undone: add --yes")
        row = subject_erase(org=org, actor=None, patient=self._patient(org, o["patient"]))
        self.stdout.write(json.dumps({"request": str(row.pk), **row.outcome}, indent=1, ensure_ascii=False))

    def _requests(self, org: Organization, o: dict[str, Any]) -> None:
        for row in request_list(org=org, open_only=o["open"]):
            done = row.completed_at.isoformat() if row.completed_at else "-"
            self.stdout.write(
                f"{row.pk}\t{row.kind}\t{row.patient_id}\t{row.received_at.isoformat()}\t"
                f"due {row.due_at.isoformat()}\t{row.status}\t{done}"
            )

    def _retention(self, org: Organization, o: dict[str, Any]) -> None:
        run = retention_run(org=org, dry_run=o["dry_run"])
        head = "would change (dry run)" if run.dry_run else "changed"
        for kind, count in sorted(run.counts.items()):
            self.stdout.write(f"{kind}: {count} {head}")

    def _restrict(self, org: Organization, o: dict[str, Any]) -> None:
        reason = o["reason"].strip()
        if not reason:
            raise CommandError("--reason: give the reason for the restriction (it is logged)")
        if len(reason) > 500:
            raise CommandError(f"--reason: at most 500 characters (got {len(reason)})")
        patient = self._patient(org, o["patient"])
        try:
            row = subject_restrict(org=org, actor=None, patient=patient, reason=reason)
        except Conflict as exc:
            raise CommandError(f"--patient: {patient.pk} is restricted already; nothing changed") from exc
        withdrawn = ", ".join(row.outcome["withdrawn"]) or "none were granted"
        self.stdout.write(
            f"request {row.pk}: processing of patient {patient.pk} restricted; records kept; "
            f"consents withdrawn: {withdrawn}"
        )

    def _lift(self, org: Organization, o: dict[str, Any]) -> None:
        reason = o["reason"].strip()
        if len(reason) > 500:
            raise CommandError(f"--reason: at most 500 characters (got {len(reason)})")
        patient = self._patient(org, o["patient"])
        try:
            row = subject_restriction_lift(org=org, actor=None, patient=patient, reason=reason)
        except Conflict as exc:
            raise CommandError(f"--patient: {patient.pk} is not restricted; nothing changed") from exc
        self.stdout.write(
            f"request {row.pk}: restriction of patient {patient.pk} lifted "
            f"(restricted since {row.outcome['restricted_since']}); withdrawn consents stay withdrawn"
        )

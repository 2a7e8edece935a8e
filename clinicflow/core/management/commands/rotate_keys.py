"""``clinicflow rotate_keys``: seal every encrypted column again with the current key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicflow.core import crypto
from clinicflow.core.fields import Rotated, encrypted_models, rotate_model
from clinicflow.core.models import Organization


class Command(BaseCommand):
    help = (
        "Re-encrypt the encrypted columns with the current key of FIELD_ENCRYPTION_KEYS. The columns: "
        "patients' phones, e-mail, notes, consent evidence; the current key is the first listed. Keep "
        "the old keys listed after it until this has run; values under an old key decrypt until then. "
        "Blind indexes (BLIND_INDEX_KEY) are not changed. Safe to run again and while the application "
        "runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", default=None, help="Slug of one organisation (default: all).")
        parser.add_argument(
            "--batch", type=int, default=1000, help="Rows read and written per transaction (default: 1000)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the values under an old key; write nothing."
        )

    def handle(self, *args: Any, **o: Any) -> None:
        if o["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        org_id = None
        if o["org"]:
            org = Organization.objects.filter(slug=o["org"]).first()
            if org is None:
                raise CommandError(f"no organisation with slug {o['org']!r}")
            org_id = org.pk
        current = crypto.keyring().current
        verb = "would re-encrypt" if o["dry_run"] else "re-encrypted"
        self.stdout.write(
            f"current key: {current}" + (" (dry run: nothing is written)" if o["dry_run"] else "")
        )
        total = Rotated()
        for model, fields in encrypted_models():
            label = model._meta.label
            names = ", ".join(f.name for f in fields)

            def progress(done: Rotated, label: str = label) -> None:
                self.stdout.write(f"  {label}: {done.rows} rows read, {done.values} values {verb}")

            try:
                done = rotate_model(
                    model, fields, org_id=org_id, batch=o["batch"], dry_run=o["dry_run"], progress=progress
                )
            except crypto.DecryptionError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"{label} ({names}): {done.rows} rows, {done.values} values {verb}")
            if done.skipped:
                self.stdout.write(self.style.WARNING(f"  {done.skipped} rows changed meanwhile: run again"))
            total.rows += done.rows
            total.values += done.values
            total.skipped += done.skipped
        self.stdout.write(
            self.style.SUCCESS(
                f"done: {total.rows} rows read, {total.values} values {verb} with key {current}"
            )
        )

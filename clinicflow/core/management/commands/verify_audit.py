from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicflow.core.audit import audit_verify
from clinicflow.core.models import Organization


class Command(BaseCommand):
    help = (
        "Verify each organisation's audit hash chain and name the first broken link. Chains the audit "
        "rows still pending first, then checks the keyed hash chain; exits 1 when broken."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", default=None, help="Slug of one organisation (default: all).")

    def handle(self, *args: Any, **o: Any) -> None:
        orgs = Organization.objects.all()
        if o["org"]:
            orgs = orgs.filter(slug=o["org"])
            if not orgs.exists():
                raise CommandError(f"no organisation with slug {o['org']!r}")
        broken = False
        for org in orgs:
            checked, event, reason = audit_verify(org=org)
            if reason:
                broken = True
                where = f"row seq={event.seq} id={event.pk}" if event is not None else "end of chain"
                if event is not None and event.seq is None:
                    where = f"unchained row id={event.pk} at={event.at.isoformat()}"
                self.stdout.write(
                    self.style.ERROR(f"{org.slug}: BROKEN at {where}: {reason} ({checked} rows ok before)")
                )
            else:
                self.stdout.write(self.style.SUCCESS(f"{org.slug}: {checked} audit rows, chain intact"))
        if broken:
            raise CommandError("audit chain broken")

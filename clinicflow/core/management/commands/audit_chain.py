"""``clinicflow audit_chain``: run the audit chainer once (``clinicflow worker`` runs it periodically)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicflow.core.audit import audit_chain, audit_chain_all
from clinicflow.core.models import Organization


class Command(BaseCommand):
    help = "Link the committed audit rows that are not chained yet into their organisation's chain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", default=None, help="Slug of one organisation (default: every one).")
        parser.add_argument(
            "--wait",
            action="store_true",
            help="Wait for a chain that another chainer or writer holds instead of skipping it.",
        )

    def handle(self, *args: Any, **o: Any) -> None:
        if o["org"]:
            org = Organization.objects.filter(slug=o["org"]).first()
            if org is None:
                raise CommandError(f"no organisation with slug {o['org']!r}")
            linked = audit_chain(org_id=org.pk, wait=o["wait"])
        else:
            linked = audit_chain_all(wait=o["wait"])
        self.stdout.write(f"audit_chain: {linked} rows linked")

"""``clinicflow ledger verify [--org SLUG]``: reconcile the ledger's cached balances with its postings."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from clinicflow.core.models import Organization
from clinicflow.core.selectors import organization_find
from clinicflow.ledger.services.verify import ledger_verify


class Command(BaseCommand):
    help = (
        "Check the ledger of checkout and loyalty. `ledger verify` recomputes every balance from the "
        "postings, compares it with the cached one, checks that every transaction sums to zero per "
        "currency or unit, and names the first mismatch. Exit status 1 when anything is off."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        verify = sub.add_parser(
            "verify",
            help="Recompute balances from postings and compare them with the cached ones.",
            description="Recompute every patient account's balance from its postings, compare it with "
            "the cached balance and the last posting's balance_after, check that every transaction "
            "sums to zero per currency or unit and that all balances of a unit sum to zero. Prints one "
            "summary line per organisation and the first mismatch; exits 1 when any is found.",
        )
        verify.add_argument(
            "--org",
            metavar="SLUG",
            default="",
            help="Check only the organisation with this slug (default: every organisation).",
        )
        verify.add_argument(
            "--all-mismatches",
            action="store_true",
            help="List every mismatch found, not only the first of each organisation.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        slug = str(options.get("org") or "")
        if slug:
            org = organization_find(slug=slug)
            if org is None:
                raise CommandError(f"no organisation with slug {slug!r}")
            orgs = [org]
        else:
            orgs = list(Organization.objects.order_by("slug"))
        bad = 0
        for org in orgs:
            report = ledger_verify(org=org)
            state = "OK" if report.ok else f"{len(report.mismatches)} mismatch(es)"
            self.stdout.write(
                f"{org.slug}: {report.accounts} accounts, {report.transactions} transactions, "
                f"{report.postings} postings: {state}"
            )
            if not report.ok:
                bad += 1
                shown = report.mismatches if options.get("all_mismatches") else report.mismatches[:1]
                for line in shown:
                    self.stdout.write(f"  first mismatch: {line}" if len(shown) == 1 else f"  {line}")
        self.stdout.write(f"{len(orgs)} organisation(s) checked, {bad} with mismatches")
        if bad:
            raise CommandError("the ledger does not reconcile", returncode=1)

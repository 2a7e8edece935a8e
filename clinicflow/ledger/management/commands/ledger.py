"""``clinicflow ledger verify [--org SLUG]``: reconcile the ledger's cached balances with its postings.
``clinicflow ledger expire [--org SLUG] [--at WHEN]``: expire the bonus and points lots due by then."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from clinicflow.core.models import Organization
from clinicflow.core.selectors import organization_find
from clinicflow.ledger.services.lots import expire_due
from clinicflow.ledger.services.verify import ledger_verify


class Command(BaseCommand):
    help = (
        "Check the ledger of checkout and loyalty. `ledger verify` recomputes every balance from the "
        "postings, compares it with the cached one, checks that every transaction sums to zero per "
        "currency or unit, and names the first mismatch. Exit status 1 when anything is off. "
        "`ledger expire` expires what bonus and points lots have left once past their expiry."
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

        expire = sub.add_parser(
            "expire",
            help="Expire the bonus and points lots due by a moment (default now).",
            description="Move what the bonus and points lots past their expiry have left to the clinic's "
            "expired account, as the periodic job expire_lots does, as of --at (default now). Runs "
            "until nothing due is left; a rerun posts nothing.",
        )
        expire.add_argument(
            "--org", metavar="SLUG", default="", help="Only this organisation (default: every one)."
        )
        expire.add_argument(
            "--at",
            metavar="WHEN",
            default="",
            help="ISO 8601 date or date and time (a time without a zone is in the current zone); "
            "lots expiring by then are expired (default: now).",
        )

    def _orgs(self, options: dict[str, Any]) -> list[Organization]:
        slug = str(options.get("org") or "")
        if slug:
            org = organization_find(slug=slug)
            if org is None:
                raise CommandError(f"no organisation with slug {slug!r}")
            return [org]
        return list(Organization.objects.order_by("slug"))

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("action") == "expire":
            self._expire(options)
            return
        orgs = self._orgs(options)
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

    def _expire(self, options: dict[str, Any]) -> None:
        at = _moment(str(options.get("at") or ""))
        orgs = self._orgs(options)
        total = 0
        for org in orgs:
            count = 0
            while batch := expire_due(org=org, at=at):
                count += len(batch)
            total += count
            self.stdout.write(f"{org.slug}: {count} expiry transaction(s) as of {at.isoformat()}")
        self.stdout.write(f"{len(orgs)} organisation(s), {total} expiry transaction(s)")


def _moment(raw: str) -> dt.datetime:
    """``--at``: now when empty; a date is its end (the lots expiring that day are due); a date and
    time without a zone is in the current zone."""
    if not raw:
        return timezone.now()
    try:
        if len(raw) == 10:
            day = dt.date.fromisoformat(raw)
            at = dt.datetime.combine(day + dt.timedelta(days=1), dt.time()) - dt.timedelta(microseconds=1)
        else:
            at = dt.datetime.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"--at: not an ISO 8601 date or date and time: {raw!r}") from exc
    return timezone.make_aware(at) if timezone.is_naive(at) else at

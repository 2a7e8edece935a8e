"""``analytics`` management command: analytics reports by subcommand.

``clv``: predictive lifetime value (BG/NBD + Gamma-Gamma), see ``docs/clv.md``::

    clinicflow analytics clv --transactions visits.csv --until 2024-12-31 --json
    clinicflow analytics clv --org demo [--until 2026-11-22]

With ``--org`` the organisation's payments are read from the database, ``--until``
defaults to today, and after a successful fit every patient's prediction is stored
(``patients.PatientPrediction``, replacing the organisation's earlier rows). The text summary
then prints money in the organisation's currency and names the top patients with the link to
their card (``CLINICFLOW_PUBLIC_URL`` + the card's path); from a file it lists patient ids and
prints money with ``--currency CODE`` when given.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse
from django.utils import timezone

from clinicflow.analytics.clv import cli as clv_cli
from clinicflow.analytics.clv.report import PatientLabel
from clinicflow.analytics.owner import rebuild_cli
from clinicflow.analytics.pricing import cli as whatif_cli
from clinicflow.core.models import Organization
from clinicflow.patients.selectors import patients_named

ORG_SOURCE = "clinicflow.analytics.clv.org_source"


class Command(BaseCommand):
    help = (
        "Analytics reports: clv predicts each patient's lifetime value (BG/NBD and Gamma-Gamma). "
        "whatif predicts the months ahead with moved levers. "
        "rebuild builds the owner's daily facts again from the raw tables, with progress. "
        "Run 'clinicflow analytics ACTION --help' (clv, whatif, rebuild) for their options."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        clv = subparsers.add_parser(
            "clv",
            help="predictive lifetime value per patient (BG/NBD visits, Gamma-Gamma value)",
            description="Fit the BG/NBD and Gamma-Gamma models to patients' visits and "
            "predict each patient's P(alive), expected visits, value per visit and CLV.",
        )
        clv_cli.add_arguments(clv)
        clv.add_argument(
            "--org",
            metavar="SLUG",
            help="read the transactions of this organisation from the database "
            "instead of --transactions FILE and store each patient's prediction",
        )

        whatif = subparsers.add_parser(
            "whatif",
            help="the what-if planner: months ahead under moved levers, with 95%% intervals",
            description="Fit the factor model of revenue on the organisation's history and predict "
            "the next months with the levers moved (names as in the simulator's [[changes]]).",
        )
        whatif_cli.add_arguments(whatif)

        rebuild = subparsers.add_parser(
            "rebuild",
            help="rebuild the owner's daily facts from the raw tables, showing progress",
            description=rebuild_cli.DESCRIPTION,
        )
        rebuild_cli.add_arguments(rebuild)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] != "clv":
            self._other(options)
            return
        org = options.get("org")
        if org and options.get("transactions"):
            raise CommandError("give either --transactions FILE or --org SLUG, not both")
        if not org and not options.get("transactions"):
            raise CommandError("give the transactions with --transactions FILE or --org SLUG")
        rows_loader = None
        labeller = None
        if org:
            # Written separately: load_org_transactions(slug) -> iterable of (patient_id, date, amount).
            try:
                source = importlib.import_module(ORG_SOURCE)
            except ModuleNotFoundError as exc:
                if exc.name != ORG_SOURCE:
                    raise
                raise CommandError(f"--org is not available: {ORG_SOURCE} is not installed") from exc
            load_org_transactions = source.load_org_transactions

            def rows_loader() -> Any:
                try:
                    return list(load_org_transactions(org))
                except source.UnknownOrganisation as exc:
                    raise clv_cli.ClvError(str(exc), clv_cli.EXIT_INPUT) from exc

            if options.get("until") is None:
                options["until"] = timezone.localdate()
            organisation = Organization.objects.filter(slug=org).first()
            if organisation is not None:
                if options.get("currency") and options["currency"] != organisation.currency:
                    raise CommandError(
                        f"--currency {options['currency']} differs from {org}'s currency "
                        f"{organisation.currency}: the payments are read in {organisation.currency}"
                    )
                options["currency"] = organisation.currency
                labeller = _card_labeller(organisation)

        try:
            result = clv_cli.execute(options, self.stdout, self.stderr, rows_loader, labeller)
        except clv_cli.ClvError as exc:
            raise CommandError(str(exc), returncode=exc.exit_code) from exc
        if org:
            stored = source.store_predictions(org, result)
            # Machine-readable output stays clean: the confirmation goes to stderr there.
            sink = self.stderr if options.get("json") or options.get("csv") == "-" else self.stdout
            sink.write(f"Stored {stored} predictions for {org}")

    def _other(self, options: dict[str, Any]) -> None:
        if options["action"] == "rebuild":
            rebuild_cli.run(options, self.stdout)
        elif options["action"] == "whatif":
            whatif_cli.run(options, self.stdout, self.stderr)
        else:  # pragma: no cover - argparse allows only the actions above
            raise CommandError(f"unknown analytics action {options['action']!r}")


def _card_labeller(org: Organization) -> clv_cli.Labeller:
    """Names the listed patients of ``org`` with the absolute link to their patient card."""
    base = str(settings.CLINICFLOW.get("PUBLIC_URL", "")).rstrip("/")

    def labels(ids: Sequence[str]) -> Mapping[str, PatientLabel]:
        keys = []
        for text in ids:
            try:
                keys.append(uuid.UUID(text))
            except ValueError:
                continue  # not a patient of the database: stays listed by its id
        return {
            str(p.pk): PatientLabel(p.full_name, base + reverse("patients:detail", args=[str(p.pk)]))
            for p in patients_named(org=org, ids=keys)
        }

    return labels

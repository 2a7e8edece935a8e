"""``clinicflow integrations add|list|disable``: telephony webhook integrations per organisation."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicflow.acquisition.integrations import selectors, services
from clinicflow.acquisition.models import Provider
from clinicflow.core.errors import DomainError, NotFound
from clinicflow.core.models import Organization


class Command(BaseCommand):
    help = "Set up telephony webhook integrations (generic, CallRail, Calltouch)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="create an integration and print its webhook URL")
        add.add_argument("--org", required=True, help="organisation slug")
        add.add_argument("--provider", required=True, choices=Provider.values)
        add.add_argument(
            "--signing-key", default="", help="the provider's signing key (CallRail) or your own"
        )
        add.add_argument("--name", default="")
        add.add_argument("--base-url", default="http://127.0.0.1:8000", help="public base URL of Clinicflow")
        lst = sub.add_parser("list", help="list integrations")
        lst.add_argument("--org", required=True)
        dis = sub.add_parser("disable", help="disable an integration (its URL then answers 404)")
        dis.add_argument("--org", required=True)
        dis.add_argument("id", help="integration id")

    def handle(self, *args: Any, **opts: Any) -> None:
        org = Organization.objects.filter(slug=opts["org"]).first()
        if org is None:
            raise CommandError(f"unknown organisation {opts['org']!r}")
        actions = {"add": self._add, "list": self._list, "disable": self._disable}
        try:
            actions[opts["action"]](org, opts)
        except DomainError as exc:
            raise CommandError(exc.message) from exc

    def _add(self, org: Organization, opts: dict[str, Any]) -> None:
        integration, secret = services.integration_create(
            org=org,
            actor=None,
            provider=opts["provider"],
            signing_key=opts["signing_key"],
            name=opts["name"],
        )
        url = opts["base_url"].rstrip("/") + services.webhook_path(integration.provider, secret)
        self.stdout.write(f"id: {integration.pk}")
        self.stdout.write(f"webhook URL: {url}")
        self.stdout.write("The URL contains the secret; it is shown only now.")

    def _list(self, org: Organization, opts: dict[str, Any]) -> None:
        for row in selectors.integrations(org=org):
            self.stdout.write(
                f"{row.pk}  {row.provider:<9}  {'active' if row.is_active else 'disabled':<8}  "
                f"secret {row.secret_prefix}…  signed={'yes' if row.signing_key else 'no'}  "
                f"last event {row.last_event_at.isoformat() if row.last_event_at else '-'}"
            )

    def _disable(self, org: Organization, opts: dict[str, Any]) -> None:
        try:
            row = selectors.integration_get(org=org, integration_id=opts["id"])
        except NotFound as exc:
            raise CommandError("integration not found") from exc
        services.integration_set_active(org=org, actor=None, integration=row, active=False)
        self.stdout.write(f"disabled {row.pk}")

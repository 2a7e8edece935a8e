"""``clinicflow integrations add|list|disable``: telephony webhook integrations per organisation."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicflow.acquisition import services
from clinicflow.acquisition.models import Integration, Provider
from clinicflow.core.errors import DomainError
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
        action = opts["action"]
        try:
            if action == "add":
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
            elif action == "list":
                for row in Integration.objects.for_org(org).order_by("created_at"):
                    self.stdout.write(
                        f"{row.pk}  {row.provider:<9}  {'active' if row.is_active else 'disabled':<8}  "
                        f"secret {row.secret_prefix}…  signed={'yes' if row.signing_key else 'no'}  "
                        f"last event {row.last_event_at.isoformat() if row.last_event_at else '-'}"
                    )
            elif action == "disable":
                from clinicflow.core.selectors import parse_uuid

                pk = parse_uuid(opts["id"])
                row = Integration.objects.for_org(org).filter(pk=pk).first() if pk else None
                if row is None:
                    raise CommandError("integration not found")
                services.integration_set_active(org=org, actor=None, integration=row, active=False)
                self.stdout.write(f"disabled {row.pk}")
        except DomainError as exc:
            raise CommandError(exc.message) from exc

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicflow.core.errors import DomainError
from clinicflow.core.models import Region
from clinicflow.core.services import branch_create, organization_create


class Command(BaseCommand):
    help = "Create an organisation (a tenant: a clinic or a chain) with its first branch."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="Display name, e.g. 'Smile Dental'.")
        parser.add_argument(
            "--slug", required=True, help="Short unique id used in commands and URLs, e.g. 'smile'."
        )
        parser.add_argument(
            "--country", required=True, help="ISO 3166 two-letter code; the default phone region."
        )
        parser.add_argument(
            "--currency", required=True, help="ISO 4217 code of the clinic's money, e.g. RUB, CNY, EUR."
        )
        parser.add_argument(
            "--region",
            default=Region.OTHER,
            choices=Region.values,
            help="Data-residency region of the organisation's personal data.",
        )
        parser.add_argument(
            "--language", default="en", choices=["en", "ru", "zh-hans"], help="Default UI language."
        )
        parser.add_argument("--branch-name", default="Main branch", help="Name of the first branch.")
        parser.add_argument(
            "--timezone", required=True, help="IANA time zone of the first branch, e.g. Europe/Moscow."
        )

    def handle(self, *args: Any, **o: Any) -> None:
        try:
            org = organization_create(
                name=o["name"],
                slug=o["slug"],
                country=o["country"],
                currency=o["currency"],
                data_region=o["region"],
                default_language=o["language"],
            )
            branch = branch_create(org=org, name=o["branch_name"], slug="main", timezone=o["timezone"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Created organisation {org.slug!r} ({org.name}) "
                f"with branch {branch.name!r} in {branch.timezone}."
            )
        )

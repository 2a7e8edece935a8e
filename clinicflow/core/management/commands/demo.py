from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicflow.core.demo import DEMO_PASSWORD, DEMO_USERS, demo_exists, demo_setup


class Command(BaseCommand):
    help = (
        "Load the demo installation: 'Demo Aesthetic Clinic' (slug demo, two branches) and 'Other Clinic' "
        "(slug other), staff logins with password 'demo', and the demo clinic's data. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-migrate", action="store_true", help="Do not apply database migrations first."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Allow loading the demo under production settings (never do this with real data).",
        )

    def handle(self, *args: Any, **o: Any) -> None:
        if getattr(settings, "PRODUCTION", False) and not o["force"]:
            raise CommandError(
                "refusing to load demo logins under production settings (use --force to insist)"
            )
        if not o["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        existed = demo_exists()
        summary = demo_setup()
        if existed:
            self.stdout.write("The demo organisations already exist; nothing was changed.")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo loaded: {summary.organizations} organisations, {summary.branches} branches, "
                    f"{summary.users} staff users, {summary.patients} patients."
                )
            )
        self.stdout.write(f"\nDemo logins (password: {DEMO_PASSWORD}):")
        for slug, email, role, _name, _c in DEMO_USERS:
            self.stdout.write(f"  {email:<24} {role:<10} ({slug})")

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicflow.accounts.roles import Role
from clinicflow.accounts.services import user_create
from clinicflow.core.errors import DomainError
from clinicflow.core.selectors import branch_find, organization_find


class Command(BaseCommand):
    help = "Create a staff user in an organisation with a role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="Slug of the organisation.")
        parser.add_argument("--email", required=True, help="Login e-mail (unique across the installation).")
        parser.add_argument(
            "--role", required=True, choices=Role.values, help="Staff role; decides what they see."
        )
        parser.add_argument("--name", default="", help="Full name shown in the UI.")
        parser.add_argument(
            "--password",
            default=None,
            help="Password (asked for interactively when omitted; avoid it in shell history).",
        )
        parser.add_argument("--consultant", action="store_true", help="The user also runs consultations.")
        parser.add_argument(
            "--branch",
            default="",
            help="Slug or id of the branch the user is tied to: they open only that branch's patient "
            "cards (and those with no branch); others need emergency access. Default: every branch.",
        )

    def handle(self, *args: Any, **o: Any) -> None:
        org = organization_find(slug=o["org"])
        if org is None:
            raise CommandError(f"no organisation with slug {o['org']!r}")
        branch = branch_find(org=org, key=o["branch"]) if o["branch"] else None
        if o["branch"] and branch is None:
            raise CommandError(f"no branch {o['branch']!r} in {org.slug!r}")
        password = o["password"] or getpass.getpass("Password: ")
        try:
            user = user_create(
                org=org,
                actor=None,
                email=o["email"],
                password=password,
                role=o["role"],
                full_name=o["name"],
                is_consultant=o["consultant"],
                branch=branch,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Created {user.get_role_display()} {user.email} in {org.slug!r}.")
        )

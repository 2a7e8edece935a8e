from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicflow.accounts.roles import Role
from clinicflow.accounts.selectors import user_find
from clinicflow.accounts.services import user_deactivate, user_set_password, user_set_role
from clinicflow.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Change a staff user's role, deactivate them or set a new password. Each change ends all of "
        "the user's sessions, revokes their API tokens and is audited."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="The user's login e-mail.")
        parser.add_argument("--role", choices=Role.values, help="The new role.")
        parser.add_argument("--deactivate", action="store_true", help="Deactivate the user.")
        parser.add_argument(
            "--set-password", action="store_true", help="Set a new password (asked for interactively)."
        )

    def handle(self, *args: Any, **o: Any) -> None:
        user = user_find(email=o["email"])
        if user is None:
            raise CommandError(f"no staff user with e-mail {o['email']!r}")
        if not (o["role"] or o["deactivate"] or o["set_password"]):
            raise CommandError("nothing to do: give --role, --deactivate or --set-password")
        org = user.organization
        try:
            if o["set_password"]:
                user_set_password(actor=None, user=user, password=getpass.getpass("New password: "))
            if o["role"]:
                user_set_role(org=org, actor=None, user=user, role=o["role"])
            if o["deactivate"]:
                user_deactivate(org=org, actor=None, user=user)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"Updated {user.email}; their sessions and API tokens ended."))

"""``clinicflow dbroles``: print the SQL that sets up the owner and application roles on PostgreSQL."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicflow.core.dbroles import roles_sql


class Command(BaseCommand):
    help = (
        "Print the SQL that creates the owner and the application database roles. The roles: an owner "
        "that runs migrations and owns the tables and the audit log's append-only triggers, and an "
        "application role with ordinary DML rights but only "
        "INSERT and SELECT on the audit tables. Run it with psql as a superuser."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--owner", default="clinicflow_owner", help="Owner role (default clinicflow_owner)."
        )
        parser.add_argument(
            "--app", default="clinicflow_app", help="Application role (default clinicflow_app)."
        )
        parser.add_argument("--database", default="clinicflow", help="Database name (default clinicflow).")
        parser.add_argument(
            "--grants-only",
            action="store_true",
            help="Leave out CREATE ROLE (the roles exist; re-run the grants after a migration).",
        )

    def handle(self, *args: Any, **o: Any) -> None:
        if o["owner"] == o["app"]:
            raise CommandError("--owner and --app must be different roles")
        try:
            sql = roles_sql(
                owner=o["owner"], app=o["app"], database=o["database"], create_roles=not o["grants_only"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(sql, ending="")

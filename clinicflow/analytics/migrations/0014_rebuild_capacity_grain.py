"""The capacity facts' new grain (issue #17, ``owner.capload_facts``): the hour rows of each doctor and
room become one hour row per branch (its doctors' sums, all the "by hour" view reads); the day rows of
each doctor and room stay. Converted in place, so the reports read the same figures before the next
``clinicflow analytics rebuild``."""

from typing import Any

from django.db import migrations


def to_branch_hours(apps: Any, schema_editor: Any) -> None:
    table = apps.get_model("analytics", "CapacityFact")._meta.db_table
    pg = schema_editor.connection.vendor == "postgresql"
    new_id = "gen_random_uuid()" if pg else "lower(hex(randomblob(16)))"
    branch_hours = (
        f"INSERT INTO {table} (id, organization_id, branch_id, day, hour, doctor_id, room_id, "  # nosec B608 # noqa: S608 - names from model meta
        f"available_seconds, booked_seconds) SELECT {new_id}, organization_id, branch_id, day, hour, "
        f"NULL, NULL, SUM(available_seconds), SUM(booked_seconds) FROM {table} "
        "WHERE hour >= 0 AND doctor_id IS NOT NULL GROUP BY organization_id, branch_id, day, hour"
    )
    former = f"DELETE FROM {table} WHERE hour >= 0 AND (doctor_id IS NOT NULL OR room_id IS NOT NULL)"  # nosec B608 # noqa: S608 - names from model meta
    with schema_editor.connection.cursor() as cur:
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(branch_hours)
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(former)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0013_score_facts"),
    ]

    operations: list[migrations.operations.base.Operation] = [
        migrations.RunPython(to_branch_hours, migrations.RunPython.noop),
    ]

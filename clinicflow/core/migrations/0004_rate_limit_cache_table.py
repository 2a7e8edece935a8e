"""The database cache's table (``clinicflow_cache``): the shared store of rate-limit counters when no
``REDIS_URL`` is set. Created whatever the configured backend, so switching Redis off later works."""

from django.core.management import call_command
from django.db import migrations

TABLE = "clinicflow_cache"


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    call_command("createcachetable", TABLE, database=schema_editor.connection.alias, verbosity=0)


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_no_single_column_org_index"),
    ]

    operations = [migrations.RunPython(create, drop)]

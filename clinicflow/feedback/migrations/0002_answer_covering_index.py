"""PostgreSQL only: a covering index of the answers by organisation and moment carrying the columns
the NPS/CSAT reports group and count by, so a report over a period is an index-only scan."""

from typing import Any

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS answer_org_at_cover ON feedback_surveyanswer "
    "(organization_id, answered_at) INCLUDE (doctor_id, branch_id, consultant_id, service_id, nps, csat)"
)
DROP = "DROP INDEX IF EXISTS answer_org_at_cover"


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]

"""PostgreSQL only: no two live appointments hold one doctor, or one room, over overlapping times.

The constraint cannot be declared in Meta (SQLite must keep working): on SQLite writes are serialised
(IMMEDIATE transactions) and the service checks overlaps under the write lock.
"""

from django.db import migrations

LIVE = "status NOT IN ('cancelled', 'no_show')"

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    "ALTER TABLE booking_appointment ADD CONSTRAINT appt_no_doctor_overlap EXCLUDE USING gist "
    "(organization_id WITH =, doctor_id WITH =, tstzrange(start_at, busy_until, '[)') WITH &&) "
    f"WHERE ({LIVE})",
    "ALTER TABLE booking_appointment ADD CONSTRAINT appt_no_room_overlap EXCLUDE USING gist "
    "(organization_id WITH =, room_id WITH =, tstzrange(start_at, busy_until, '[)') WITH &&) "
    f"WHERE ({LIVE} AND room_id IS NOT NULL)",
]
BACKWARD = [
    "ALTER TABLE booking_appointment DROP CONSTRAINT IF EXISTS appt_no_room_overlap",
    "ALTER TABLE booking_appointment DROP CONSTRAINT IF EXISTS appt_no_doctor_overlap",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in FORWARD:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in BACKWARD:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("booking", "0001_doctors_rooms_schedules_appointments")]

    operations = [migrations.RunPython(forward, backward)]

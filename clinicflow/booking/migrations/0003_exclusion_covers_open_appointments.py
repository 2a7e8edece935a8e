"""PostgreSQL only: the no-double-booking exclusion constraints cover the appointments that are still
open — booked, confirmed, arrived — instead of every appointment that ever held a doctor or a room.

Why: the constraints exist to refuse two concurrent bookings of one doctor or room (the service no
longer locks the doctor). A finished visit (done) is history: a new booking must start in the future
and the service's own check still counts done visits as taken (``HOLDING_STATUSES``). Keeping years of
finished visits in two GiST indexes cost every write and made a bulk load re-check every past visit
(23 of the simulator's 69 s at chain scale); the open appointments are a few weeks' worth.
"""

from django.db import migrations

OPEN = "status IN ('booked', 'confirmed', 'arrived')"
HOLDING = "status NOT IN ('cancelled', 'no_show')"


def _constraints(where: str) -> list[str]:
    return [
        "ALTER TABLE booking_appointment DROP CONSTRAINT IF EXISTS appt_no_room_overlap",
        "ALTER TABLE booking_appointment DROP CONSTRAINT IF EXISTS appt_no_doctor_overlap",
        "ALTER TABLE booking_appointment ADD CONSTRAINT appt_no_doctor_overlap EXCLUDE USING gist "
        "(organization_id WITH =, doctor_id WITH =, tstzrange(start_at, busy_until, '[)') WITH &&) "
        f"WHERE ({where})",
        "ALTER TABLE booking_appointment ADD CONSTRAINT appt_no_room_overlap EXCLUDE USING gist "
        "(organization_id WITH =, room_id WITH =, tstzrange(start_at, busy_until, '[)') WITH &&) "
        f"WHERE ({where} AND room_id IS NOT NULL)",
    ]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in _constraints(OPEN):
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in _constraints(HOLDING):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("booking", "0002_no_double_booking_exclusion")]

    operations = [migrations.RunPython(forward, backward)]

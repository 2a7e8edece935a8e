from django.db import connection
from django.db.models.expressions import RawSQL

from clinicflow.patients.models import Patient

ORDERING = {"name": "name", "-name": "-name"}


def by_name(name: str, order: str) -> object:
    with connection.cursor() as cur:
        cur.execute("SELECT id FROM patients_patient WHERE name = %s", [name])
        cur.execute("SELECT id FROM patients_patient WHERE name = %(n)s", {"n": name})
    message = f"looked up {name}"
    print(message)
    Patient.objects.raw("SELECT * FROM patients_patient WHERE name = %s", [name])
    Patient.objects.extra(where=["name = %s"], params=[name])
    return Patient.objects.annotate(x=RawSQL("SELECT %s", [name])).order_by(ORDERING.get(order, "name"))

# ruff: noqa: UP031, UP032 - the string building this rule must catch
from django.db import connection
from django.db.models.expressions import RawSQL

from clinicflow.patients.models import Patient


def by_name(name: str, order: str) -> object:
    with connection.cursor() as cur:
        cur.execute(f"SELECT id FROM patients_patient WHERE name = '{name}'")  # ruleid
        cur.execute("SELECT id FROM patients_patient WHERE name = '%s'" % name)  # ruleid
        cur.execute("SELECT id FROM patients_patient ORDER BY " + order)  # ruleid
        sql = "SELECT id FROM patients_patient WHERE name = '{}'".format(name)
        cur.execute(sql)  # ruleid
    Patient.objects.raw(f"SELECT * FROM patients_patient ORDER BY {order}")  # ruleid
    Patient.objects.extra(where=[f"name = '{name}'"])  # ruleid
    return Patient.objects.annotate(x=RawSQL("SELECT %s" % name, []))  # ruleid

"""On PostgreSQL: invoice tenders are append-only like the journal (UPDATE and DELETE refused), and
the journal's and tenders' append-only triggers let one deliberate act through: deleting a whole
organisation's rows with ``clinicflow.purge_org`` set to its id inside the transaction (the
simulator's reset of a simulated clinic, as for the clinical tables). Ordinary UPDATE and DELETE still
fail. The SQL is frozen here."""

from django.db import migrations

TABLES = ["ledger_transaction", "ledger_posting", "ledger_invoicetender"]

PURGING = "(TG_OP = 'DELETE' AND current_setting('clinicflow.purge_org', true) = OLD.organization_id::text)"

FORWARD = [
    f"""
CREATE OR REPLACE FUNCTION ledger_append_only_or_purge() RETURNS trigger AS $$
BEGIN
    IF {PURGING} THEN RETURN OLD; END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
""",
    *[
        f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}; CREATE TRIGGER {t}_append_only BEFORE UPDATE OR "
        f"DELETE ON {t} FOR EACH ROW EXECUTE FUNCTION ledger_append_only_or_purge();"
        for t in TABLES
    ],
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS ledger_invoicetender_append_only ON ledger_invoicetender;",
    *[
        f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}; CREATE TRIGGER {t}_append_only BEFORE UPDATE OR "
        f"DELETE ON {t} FOR EACH ROW EXECUTE FUNCTION clinicflow_append_only();"
        for t in TABLES[:2]
    ],
    "DROP FUNCTION IF EXISTS ledger_append_only_or_purge();",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARD:
            schema_editor.execute(sql, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_invoices")]
    operations = [migrations.RunPython(forward, backward)]

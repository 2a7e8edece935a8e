"""On PostgreSQL, refuse UPDATE and DELETE of ledger transactions and postings in the database itself
(the ORM refuses them too), and check at commit that every transaction's postings sum to zero per
unit (a deferred constraint trigger). The SQL is frozen here, as written when the app was created."""

from django.db import migrations

FORWARD = [
    "DROP TRIGGER IF EXISTS ledger_transaction_append_only ON ledger_transaction; "
    "CREATE TRIGGER ledger_transaction_append_only BEFORE UPDATE OR DELETE ON ledger_transaction "
    "FOR EACH ROW EXECUTE FUNCTION clinicflow_append_only();",
    "DROP TRIGGER IF EXISTS ledger_posting_append_only ON ledger_posting; "
    "CREATE TRIGGER ledger_posting_append_only BEFORE UPDATE OR DELETE ON ledger_posting "
    "FOR EACH ROW EXECUTE FUNCTION clinicflow_append_only();",
    """
CREATE OR REPLACE FUNCTION ledger_posting_balanced() RETURNS trigger AS $$
DECLARE bad text;
BEGIN
    SELECT unit INTO bad FROM ledger_posting WHERE transaction_id = NEW.transaction_id
        GROUP BY unit HAVING SUM(amount) <> 0 LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % does not sum to zero in %', NEW.transaction_id, bad
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
""",
    "DROP TRIGGER IF EXISTS ledger_posting_balanced ON ledger_posting; "
    "CREATE CONSTRAINT TRIGGER ledger_posting_balanced AFTER INSERT ON ledger_posting "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_posting_balanced();",
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS ledger_transaction_append_only ON ledger_transaction;",
    "DROP TRIGGER IF EXISTS ledger_posting_append_only ON ledger_posting;",
    "DROP TRIGGER IF EXISTS ledger_posting_balanced ON ledger_posting;",
    "DROP FUNCTION IF EXISTS ledger_posting_balanced();",
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
    dependencies = [("ledger", "0001_initial"), ("core", "0002_audit_append_only_trigger")]
    operations = [migrations.RunPython(forward, backward)]

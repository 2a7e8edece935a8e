"""The commit-time check that a transaction's postings sum to zero (migration 0002) read them by
``transaction_id`` alone, which no index leads with: each posting's deferred trigger scanned the whole
journal (3 ms at 4,000 postings, seconds at millions, five times per payment). The check now names the
posting's organisation too, so it reads the transaction's few postings through the
``(organization, transaction)`` index. Same rule, same error; PostgreSQL only, as 0002."""

from django.db import migrations

CHECK = """
CREATE OR REPLACE FUNCTION ledger_posting_balanced() RETURNS trigger AS $$
DECLARE bad text;
BEGIN
    SELECT unit INTO bad FROM ledger_posting
     WHERE organization_id = NEW.organization_id AND transaction_id = NEW.transaction_id
     GROUP BY unit HAVING SUM(amount) <> 0 LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % does not sum to zero in %', NEW.transaction_id, bad
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

# as migration 0002 wrote it
OLD_CHECK = """
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
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CHECK, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(OLD_CHECK, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_posting_created_index")]
    operations = [migrations.RunPython(forward, backward)]

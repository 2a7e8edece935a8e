"""Append-only clinical tables stay append-only, except for one deliberate act: deleting a whole
organisation's rows (``clinicflow.purge_org`` set to its id inside the transaction — the simulator's
reset of a simulated clinic). Ordinary UPDATE and DELETE still fail, as before."""

from django.db import migrations

APPEND_ONLY_TABLES = [
    "clinical_consenttemplateversion",
    "clinical_signedconsent",
    "clinical_treatmentamendment",
    "clinical_complication",
    "clinical_sopversion",
]

PURGING = "(TG_OP = 'DELETE' AND current_setting('clinicflow.purge_org', true) = OLD.organization_id::text)"

FORWARD = [
    f"""
CREATE OR REPLACE FUNCTION clinicflow_append_only_or_purge() RETURNS trigger AS $$
BEGIN
    IF {PURGING} THEN RETURN OLD; END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
""",
    *[
        f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}; CREATE TRIGGER {t}_append_only BEFORE UPDATE OR "
        f"DELETE ON {t} FOR EACH ROW EXECUTE FUNCTION clinicflow_append_only_or_purge();"
        for t in APPEND_ONLY_TABLES
    ],
    f"""
CREATE OR REPLACE FUNCTION clinical_treatment_signed_only() RETURNS trigger AS $$
BEGIN
    IF {PURGING} THEN RETURN OLD; END IF;
    IF OLD.signed_at IS NOT NULL THEN
        RAISE EXCEPTION '% is append-only once signed off', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
""",
    f"""
CREATE OR REPLACE FUNCTION clinical_treatmentproduct_signed_only() RETURNS trigger AS $$
DECLARE rec uuid;
BEGIN
    IF TG_OP <> 'INSERT' AND {PURGING} THEN RETURN OLD; END IF;
    rec := CASE WHEN TG_OP = 'INSERT' THEN NEW.record_id ELSE OLD.record_id END;
    IF EXISTS (SELECT 1 FROM clinical_treatmentrecord WHERE id = rec AND signed_at IS NOT NULL)
       OR (TG_OP = 'UPDATE' AND EXISTS (
           SELECT 1 FROM clinical_treatmentrecord WHERE id = NEW.record_id AND signed_at IS NOT NULL)) THEN
        RAISE EXCEPTION 'the treatment record is signed off' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
""",
]

BACKWARD = [
    *[
        f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}; CREATE TRIGGER {t}_append_only BEFORE UPDATE OR "
        f"DELETE ON {t} FOR EACH ROW EXECUTE FUNCTION clinicflow_append_only();"
        for t in APPEND_ONLY_TABLES
    ],
    "DROP FUNCTION IF EXISTS clinicflow_append_only_or_purge();",
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
    dependencies = [("clinical", "0002_append_only_triggers")]

    operations = [migrations.RunPython(forward, backward)]

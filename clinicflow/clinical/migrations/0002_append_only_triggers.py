"""On PostgreSQL, refuse changes to signed consents, consent and SOP versions, signed-off treatment
records (and their product lines), amendments and complication entries in the database itself (the
ORM refuses them too). The SQL is frozen here, as written when the app was created."""

from django.db import migrations

FORWARD = ['\nDROP TRIGGER IF EXISTS clinical_consenttemplateversion_append_only ON clinical_consenttemplateversion;\nCREATE TRIGGER clinical_consenttemplateversion_append_only\n    BEFORE UPDATE OR DELETE ON clinical_consenttemplateversion\n    FOR EACH ROW EXECUTE FUNCTION clinicflow_append_only();\n', '\nDROP TRIGGER IF EXISTS clinical_signedconsent_append_only ON clinical_signedconsent;\nCREATE TRIGGER clinical_signedconsent_append_only\n    BEFORE UPDATE OR DELETE ON clinical_signedconsent\n    FOR EACH ROW EXECUTE FUNCTION clinicflow_append_only();\n', "\nCREATE OR REPLACE FUNCTION clinical_treatment_signed_only() RETURNS trigger AS $$\nBEGIN\n    IF OLD.signed_at IS NOT NULL THEN\n        RAISE EXCEPTION '% is append-only once signed off', TG_TABLE_NAME\n            USING ERRCODE = 'insufficient_privilege';\n    END IF;\n    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\n    RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\n", 'DROP TRIGGER IF EXISTS clinical_treatmentrecord_signed ON clinical_treatmentrecord;', 'CREATE TRIGGER clinical_treatmentrecord_signed BEFORE UPDATE OR DELETE ON clinical_treatmentrecord FOR EACH ROW EXECUTE FUNCTION clinical_treatment_signed_only();', "\nCREATE OR REPLACE FUNCTION clinical_treatmentproduct_signed_only() RETURNS trigger AS $$\nDECLARE rec uuid;\nBEGIN\n    rec := CASE WHEN TG_OP = 'INSERT' THEN NEW.record_id ELSE OLD.record_id END;\n    IF EXISTS (SELECT 1 FROM clinical_treatmentrecord WHERE id = rec AND signed_at IS NOT NULL)\n       OR (TG_OP = 'UPDATE' AND EXISTS (\n           SELECT 1 FROM clinical_treatmentrecord WHERE id = NEW.record_id AND signed_at IS NOT NULL)) THEN\n        RAISE EXCEPTION 'the treatment record is signed off' USING ERRCODE = 'insufficient_privilege';\n    END IF;\n    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\n    RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\n", 'DROP TRIGGER IF EXISTS clinical_treatmentproduct_signed ON clinical_treatmentproduct;', 'CREATE TRIGGER clinical_treatmentproduct_signed BEFORE INSERT OR UPDATE OR DELETE ON clinical_treatmentproduct FOR EACH ROW EXECUTE FUNCTION clinical_treatmentproduct_signed_only();', 'DROP TRIGGER IF EXISTS clinical_treatmentamendment_append_only ON clinical_treatmentamendment; CREATE TRIGGER clinical_treatmentamendment_append_only BEFORE UPDATE OR DELETE ON clinical_treatmentamendment FOR EACH ROW EXECUTE FUNCTION clinicflow_append_only();', 'DROP TRIGGER IF EXISTS clinical_complication_append_only ON clinical_complication; CREATE TRIGGER clinical_complication_append_only BEFORE UPDATE OR DELETE ON clinical_complication FOR EACH ROW EXECUTE FUNCTION clinicflow_append_only();', 'DROP TRIGGER IF EXISTS clinical_sopversion_append_only ON clinical_sopversion; CREATE TRIGGER clinical_sopversion_append_only BEFORE UPDATE OR DELETE ON clinical_sopversion FOR EACH ROW EXECUTE FUNCTION clinicflow_append_only();']

BACKWARD = ['DROP TRIGGER IF EXISTS clinical_consenttemplateversion_append_only ON clinical_consenttemplateversion;', 'DROP TRIGGER IF EXISTS clinical_signedconsent_append_only ON clinical_signedconsent;', 'DROP TRIGGER IF EXISTS clinical_treatmentrecord_signed ON clinical_treatmentrecord;', 'DROP TRIGGER IF EXISTS clinical_treatmentproduct_signed ON clinical_treatmentproduct;', 'DROP TRIGGER IF EXISTS clinical_treatmentamendment_append_only ON clinical_treatmentamendment;', 'DROP TRIGGER IF EXISTS clinical_complication_append_only ON clinical_complication;', 'DROP TRIGGER IF EXISTS clinical_sopversion_append_only ON clinical_sopversion;', 'DROP FUNCTION IF EXISTS clinical_treatment_signed_only();', 'DROP FUNCTION IF EXISTS clinical_treatmentproduct_signed_only();']


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARD:
            schema_editor.execute(sql, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("clinical", "0001_initial"), ("core", "0002_audit_append_only_trigger")]
    operations = [migrations.RunPython(forward, backward)]

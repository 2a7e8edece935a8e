"""Drop the chain columns from the audit rows (carried into AuditLink by 0006); make the links
append-only on PostgreSQL with the trigger of 0002, and on SQLite let each new link move the head."""

from django.db import migrations

FORWARD = """
DROP TRIGGER IF EXISTS core_auditlink_append_only ON core_auditlink;
CREATE TRIGGER core_auditlink_append_only BEFORE UPDATE OR DELETE ON core_auditlink
    FOR EACH ROW EXECUTE FUNCTION clinicflow_append_only();
"""

BACKWARD = "DROP TRIGGER IF EXISTS core_auditlink_append_only ON core_auditlink;"

# SQLite (development, tests) cannot put an INSERT and an UPDATE in one statement; this trigger moves
# the chain head with each new link, so chaining a row costs one statement there as on PostgreSQL
# (core.audit._append). A migration that remakes core_auditlink on SQLite must create it again.
SQLITE_FORWARD = """
CREATE TRIGGER IF NOT EXISTS core_auditlink_moves_head AFTER INSERT ON core_auditlink
BEGIN
    UPDATE core_auditchainhead SET seq = NEW.seq, hash = NEW.hash
        WHERE organization_id = NEW.organization_id AND seq < NEW.seq;
END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS core_auditlink_moves_head;"


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD, params=None)


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_audit_carry_chain_over"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="auditevent",
            options={},
        ),
        migrations.RemoveConstraint(
            model_name="auditevent",
            name="audit_org_seq_uniq",
        ),
        migrations.RemoveField(
            model_name="auditevent",
            name="hash",
        ),
        migrations.RemoveField(
            model_name="auditevent",
            name="prev_hash",
        ),
        migrations.RemoveField(
            model_name="auditevent",
            name="seq",
        ),
        migrations.RunPython(forward, backward),
    ]

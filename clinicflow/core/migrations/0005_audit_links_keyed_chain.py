"""The audit chain moves out of the rows: AuditLink (seq, prev_hash, HMAC hash, key id) and
AuditPending (rows waiting for the chainer); each row gets its HMAC tag. Data: 0006; old columns: 0007."""

import django.db.models.deletion
from django.db import migrations, models

import clinicflow.core.ids


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_rate_limit_cache_table"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditLink",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=clinicflow.core.ids.uuid7, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("seq", models.BigIntegerField()),
                ("prev_hash", models.CharField(max_length=64)),
                ("hash", models.CharField(max_length=64)),
                ("kid", models.CharField(max_length=32)),
            ],
        ),
        migrations.CreateModel(
            name="AuditPending",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=clinicflow.core.ids.uuid7, editable=False, primary_key=True, serialize=False
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="auditevent",
            name="kid",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="tag",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="auditlink",
            name="event",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="links",
                to="core.auditevent",
            ),
        ),
        migrations.AddField(
            model_name="auditlink",
            name="organization",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.organization",
            ),
        ),
        migrations.AddField(
            model_name="auditpending",
            name="event",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.auditevent",
            ),
        ),
        migrations.AddField(
            model_name="auditpending",
            name="organization",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.organization",
            ),
        ),
        migrations.AddConstraint(
            model_name="auditlink",
            constraint=models.UniqueConstraint(
                fields=("organization", "seq"), name="audit_link_org_seq_uniq"
            ),
        ),
        migrations.AddConstraint(
            model_name="auditlink",
            constraint=models.UniqueConstraint(
                fields=("organization", "event"), name="audit_link_org_event_uniq"
            ),
        ),
        migrations.AddConstraint(
            model_name="auditpending",
            constraint=models.UniqueConstraint(
                fields=("organization", "event"), name="audit_pending_org_event_uniq"
            ),
        ),
    ]

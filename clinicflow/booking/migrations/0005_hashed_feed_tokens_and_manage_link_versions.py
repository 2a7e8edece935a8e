"""Calendar feed tokens stored as SHA-256 with an expiry (existing addresses keep working for a year,
then must be made anew); manage links signed over a per-appointment version instead of a stored
readable token (links sent before this migration stop working; reminders sent later carry new ones)."""

import datetime as dt
import hashlib

from django.db import migrations, models
from django.utils import timezone


def hash_feed_tokens(apps, schema_editor):
    Doctor = apps.get_model("booking", "Doctor")
    expires = timezone.now() + dt.timedelta(days=365)
    for pk, token in Doctor.objects.exclude(ical_token="").values_list("pk", "ical_token").iterator():
        Doctor.objects.filter(pk=pk).update(
            ical_token_hash=hashlib.sha256(token.encode()).hexdigest(), ical_expires_at=expires
        )


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0004_no_single_column_org_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="doctor",
            name="ical_token_hash",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="doctor",
            name="ical_expires_at",
            field=models.DateTimeField(blank=True, default=None, editable=False, null=True),
        ),
        migrations.RunPython(hash_feed_tokens, migrations.RunPython.noop, elidable=True),
        migrations.RemoveConstraint(model_name="doctor", name="doctor_org_ical_uniq"),
        migrations.RemoveField(model_name="doctor", name="ical_token"),
        migrations.AddConstraint(
            model_name="doctor",
            constraint=models.UniqueConstraint(
                condition=models.Q(("ical_token_hash", ""), _negated=True),
                fields=("organization", "ical_token_hash"),
                name="doctor_org_ical_hash_uniq",
            ),
        ),
        migrations.RemoveField(model_name="appointment", name="manage_token"),
        migrations.AddField(
            model_name="appointment",
            name="manage_version",
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
    ]

"""Web leads flagged for the front desk when their contact matches a patient card (confirmed or
dismissed by a person, never attached automatically)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("acquisition", "0002_no_single_column_org_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="match",
            field=models.CharField(
                choices=[
                    ("none", "No matching patient"),
                    ("possible", "Possible match, to confirm"),
                    ("confirmed", "Confirmed by the front desk"),
                    ("dismissed", "Not this patient"),
                ],
                default="none",
                max_length=10,
                verbose_name="patient match",
            ),
        ),
        migrations.AddField(
            model_name="lead",
            name="matched_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="lead",
            name="matched_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="lead",
            name="possible_patient",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="patients.patient",
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["organization", "match", "created_at"], name="lead_org_match_idx"),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["organization", "possible_patient"], name="lead_org_possible_idx"),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["organization", "matched_by"], name="lead_org_matched_by_idx"),
        ),
    ]

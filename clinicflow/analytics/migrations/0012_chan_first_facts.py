import django.db.models.deletion
from django.db import migrations, models

import clinicflow.core.ids


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0011_chanadm_facts"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChanFirstFact",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=clinicflow.core.ids.uuid7, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("day", models.DateField()),
                ("utc_day", models.DateField()),
                ("part", models.SmallIntegerField(default=0)),
                ("model", models.CharField(max_length=20)),
                ("channel_id", models.UUIDField(null=True)),
                ("campaign_id", models.UUIDField(null=True)),
                ("den", models.IntegerField(default=1)),
                ("kind", models.SmallIntegerField(default=0)),
                ("currency", models.CharField(blank=True, max_length=3)),
                ("paid_day", models.DateField(null=True)),
                ("paid_utc", models.DateField(null=True)),
                ("booked", models.IntegerField(default=0)),
                ("arrived", models.IntegerField(default=0)),
                ("cents", models.BigIntegerField(default=0)),
                ("until", models.DateField(null=True)),
                ("sex", models.CharField(blank=True, max_length=10)),
                ("band", models.CharField(blank=True, max_length=10)),
                (
                    "branch",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="core.branch",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.organization",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["organization", "day", "branch"], name="chanfirst_org_day_idx"),
                ],
            },
        ),
    ]

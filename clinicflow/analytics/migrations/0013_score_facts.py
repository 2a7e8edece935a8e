import django.db.models.deletion
from django.db import migrations, models

import clinicflow.core.ids


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0012_chan_first_facts"),
        ("booking", "0005_hashed_feed_tokens_and_manage_link_versions"),  # the answers' doctor
    ]

    operations = [
        migrations.CreateModel(
            name="AnswerDayFact",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=clinicflow.core.ids.uuid7, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("day", models.DateField()),
                ("utc_day", models.DateField()),
                ("answers", models.IntegerField(default=0)),
                ("promoters", models.IntegerField(default=0)),
                ("detractors", models.IntegerField(default=0)),
                ("gap_answers", models.IntegerField(default=0)),
                ("gap_sum", models.BigIntegerField(default=0)),
                ("gap_squares", models.BigIntegerField(default=0)),
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
                    "consultant",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="booking.doctor",
                    ),
                ),
                (
                    "doctor",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="booking.doctor",
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
                    models.Index(fields=["organization", "day", "branch"], name="answerfact_org_day_idx"),
                    models.Index(fields=["organization", "utc_day"], name="answerfact_org_utcday_idx"),
                ],
            },
        ),
        migrations.CreateModel(
            name="ComplicationDayFact",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=clinicflow.core.ids.uuid7, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("day", models.DateField()),
                ("doctor_id", models.UUIDField()),
                ("treatments", models.IntegerField(default=0)),
                ("complications", models.IntegerField(default=0)),
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
                "indexes": [models.Index(fields=["organization", "day"], name="complfact_org_day_idx")],
            },
        ),
        migrations.CreateModel(
            name="ScoreDayFact",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=clinicflow.core.ids.uuid7, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("day", models.DateField()),
                ("utc_day", models.DateField()),
                ("followups_due", models.IntegerField(default=0)),
                ("followups_on_time", models.IntegerField(default=0)),
                ("callbacks", models.IntegerField(default=0)),
                ("callbacks_done", models.IntegerField(default=0)),
                ("sessions", models.IntegerField(default=0)),
                (
                    "branch",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
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
                    models.Index(fields=["organization", "day", "branch"], name="scorefact_org_day_idx"),
                    models.Index(fields=["organization", "utc_day"], name="scorefact_org_utcday_idx"),
                ],
            },
        ),
    ]

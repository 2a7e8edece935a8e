# The what-if planner's return facts (issue #18's speed): visits by gap bin and by links since a month.
import django.db.models.deletion
from django.db import migrations, models

import clinicflow.core.ids


def _org() -> tuple[str, models.Field]:  # type: ignore[type-arg]
    return (
        "organization",
        models.ForeignKey(
            db_constraint=False,
            db_index=False,
            on_delete=django.db.models.deletion.PROTECT,
            related_name="+",
            to="core.organization",
        ),
    )


def _id() -> tuple[str, models.Field]:  # type: ignore[type-arg]
    return (
        "id",
        models.UUIDField(
            default=clinicflow.core.ids.uuid7, editable=False, primary_key=True, serialize=False
        ),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0017_capacity_facts_without_fk_checks"),
        ("core", "0008_branch_organization_translated_names"),
    ]

    operations: list[migrations.operations.base.Operation] = [
        migrations.CreateModel(
            name="ReturnGapFact",
            fields=[
                _id(),
                ("day", models.DateField()),
                ("currency", models.CharField(max_length=3)),
                ("gap", models.SmallIntegerField()),
                ("days", models.SmallIntegerField(null=True)),
                ("visits", models.IntegerField(default=0)),
                _org(),
            ],
            options={
                "indexes": [models.Index(fields=["organization", "day"], name="retgapfact_org_day_idx")],
            },
        ),
        migrations.CreateModel(
            name="ReturnLinkFact",
            fields=[
                _id(),
                ("day", models.DateField()),
                ("currency", models.CharField(max_length=3)),
                ("since", models.IntegerField()),
                ("c1", models.SmallIntegerField(default=0)),
                ("c2", models.SmallIntegerField(default=0)),
                ("c3", models.SmallIntegerField(default=0)),
                ("c4", models.SmallIntegerField(default=0)),
                ("c5", models.SmallIntegerField(default=0)),
                ("visits", models.IntegerField(default=0)),
                ("amount", models.DecimalField(decimal_places=2, default=0, max_digits=16)),
                _org(),
            ],
            options={
                "indexes": [
                    models.Index(fields=["organization", "day"], name="retlinkfact_org_day_idx"),
                    models.Index(fields=["organization", "since", "day"], name="retlinkfact_org_since_idx"),
                ],
            },
        ),
    ]

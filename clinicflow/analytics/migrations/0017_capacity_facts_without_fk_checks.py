"""The capacity facts without a database foreign key to their organisation (issue #17,
``owner.capload_models``): as the other facts (``analytics.models.derived_fk``), the deferred check per
row at COMMIT cost a full rebuild more than writing the rows."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0016_value_split_facts_without_fk_checks"),
        ("core", "0008_branch_organization_translated_names"),
    ]

    operations: list[migrations.operations.base.Operation] = [
        migrations.AlterField(
            model_name="capacityfact",
            name="organization",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.organization",
            ),
        ),
    ]

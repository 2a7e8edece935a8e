# The value and revenue-split facts without database foreign keys (``models.derived_fk``): derived rows
# written in bulk, each checked at COMMIT otherwise (issue #17: 911,049 value facts at chain-1m).
import django.db.models.deletion
from django.db import migrations, models


def _fk(to: str, on_delete: object) -> models.ForeignKey:  # type: ignore[type-arg]
    return models.ForeignKey(
        db_constraint=False,
        db_index=False,
        on_delete=on_delete,  # type: ignore[arg-type]
        related_name="+",
        to=to,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0015_drop_former_channel_facts"),
    ]

    operations: list[migrations.operations.base.Operation] = [
        migrations.AlterField(
            model_name=model,
            name="organization",
            field=_fk("core.organization", django.db.models.deletion.PROTECT),
        )
        for model in ("patientvaluefact", "valueclassfact", "revenuesplitfact")
    ] + [
        migrations.AlterField(
            model_name="revenuesplitfact",
            name="branch",
            field=_fk("core.branch", django.db.models.deletion.CASCADE),
        ),
    ]

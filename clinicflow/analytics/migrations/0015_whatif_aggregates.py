from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0014_rebuild_capacity_grain"),
    ]

    operations: list[migrations.operations.base.Operation] = []

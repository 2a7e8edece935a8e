# The channel report's first patients, revenue and predicted value per channel and campaign are held by
# ``ChanFirstFact`` (0012); the three tables it replaced are no longer written or read.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0014_rebuild_capacity_grain"),
    ]

    operations = [
        migrations.DeleteModel(name="ChannelFact"),
        migrations.DeleteModel(name="ChannelValueFact"),
        migrations.DeleteModel(name="FirstRevenueFact"),
    ]

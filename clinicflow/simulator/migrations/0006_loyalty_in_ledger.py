# Memberships, points and referrals are written through the ledger's models (issue #16): the
# simulator's own tables for them go.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('simulator', '0005_surveys_followups_recall_in_their_apps'),
    ]

    operations = [
        migrations.DeleteModel(name="Membership"),
        migrations.DeleteModel(name="PointsEntry"),
        migrations.DeleteModel(name="Referral"),
    ]

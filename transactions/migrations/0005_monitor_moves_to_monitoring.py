"""The operational monitor's models move to the ``monitoring`` app (sentinel.monitoring).

State only: the tables stay, with their rows; monitoring's 0001 (which depends on this one)
takes the models into its own state and renames the tables to ``monitoring_*``.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("transactions", "0004_transaction_partner_index_covered"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="OperationalAlertEvent"),
                migrations.DeleteModel(name="OperationalAlert"),
                migrations.DeleteModel(name="MinuteStat"),
                migrations.DeleteModel(name="MonitorSettings"),
                migrations.DeleteModel(name="MonitorWatermark"),
            ],
            database_operations=[],
        ),
    ]

"""Alert events join the shared append-only base: the database refuses to change or delete
them, and an alert with history can no longer be deleted (PROTECT instead of CASCADE)."""

import django.db.models.deletion
from django.db import migrations, models

from sentinel.history import append_only_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0005_alert_queue_id"),
        ("sentinel", "0002_append_only_function"),
    ]

    operations = [
        migrations.AlterField(
            model_name="alertevent",
            name="alert",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="events",
                to="alerts.alert",
            ),
        ),
        append_only_triggers("alerts_alertevent"),
    ]

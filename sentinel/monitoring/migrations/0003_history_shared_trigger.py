"""Operational alert events join the shared append-only base (sentinel.history)."""

from django.db import migrations

from sentinel.history import append_only_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0002_existing_rows_follow_the_move"),
        ("sentinel", "0002_append_only_function"),
    ]

    operations = [append_only_triggers("monitoring_operationalalertevent")]

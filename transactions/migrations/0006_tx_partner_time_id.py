"""The list pages by keyset on (occurred_at, id): the partner's time index gains the id, so a
page is one index range however many transactions share a second. Built concurrently, then the
old index dropped, so ingest is never blocked and every query keeps an index meanwhile."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("transactions", "0005_monitor_moves_to_monitoring"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="transaction",
            index=models.Index(fields=["partner", "occurred_at", "id"], name="tx_partner_time_id"),
        ),
        RemoveIndexConcurrently(model_name="transaction", name="tx_partner_time"),
    ]

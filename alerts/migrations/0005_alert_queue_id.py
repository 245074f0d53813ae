"""The alert list pages by keyset on (priority, last_seen_at, id), all descending: the queue
index gains the id, so a page is one index range however many alerts tie on the first two.
Built concurrently, then the old index dropped."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("alerts", "0004_latest_links_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="alert",
            index=models.Index(fields=["-priority", "-last_seen_at", "-id"], name="alert_queue_id"),
        ),
        RemoveIndexConcurrently(model_name="alert", name="alert_queue"),
    ]

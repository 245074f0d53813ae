"""What pointed at the monitor's old home follows it to ``monitoring``, on existing databases.

- The beat entry of the monitoring cycle: a PeriodicTask row (django-celery-beat's
  DatabaseScheduler) naming ``transactions.tasks.monitor_cycle`` would run a task that no
  longer exists. Beat rewrites the entry named in CELERY_BEAT_SCHEDULE at start-up, but not a
  copy made or renamed in the admin; this rewrites every row naming the old task.
- The content types of the moved models, so their permissions (held by the staff groups and
  by users), and the admin's history of them, stay attached. A content type that
  ``monitoring`` already has (created after migrating) is left alone: the roles' permissions
  are granted afresh after every migrate (sentinel.roles).

A new database has neither, so both steps change nothing there.
"""

from django.db import migrations

OLD_TASK = "transactions.tasks.monitor_cycle"
NEW_TASK = "sentinel.monitoring.tasks.monitor_cycle"
MODELS = [
    "minutestat",
    "monitorsettings",
    "monitorwatermark",
    "operationalalert",
    "operationalalertevent",
]


def _retask(apps, old: str, new: str) -> None:
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task=old).update(task=new)


def _relabel(apps, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = set(
        ContentType.objects.filter(app_label=new, model__in=MODELS).values_list("model", flat=True)
    )
    ContentType.objects.filter(app_label=old, model__in=MODELS).exclude(model__in=taken).update(
        app_label=new
    )


def forwards(apps, schema_editor) -> None:
    _retask(apps, OLD_TASK, NEW_TASK)
    _relabel(apps, "transactions", "monitoring")


def backwards(apps, schema_editor) -> None:
    _retask(apps, NEW_TASK, OLD_TASK)
    _relabel(apps, "monitoring", "transactions")


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]

"""The daily drift task moved from the model to the pipeline, which hands the measurement to
the operational monitor (sentinel.pipeline.drift). Beat rewrites the entry named in
CELERY_BEAT_SCHEDULE at start-up, but not a copy made or renamed in the admin: this rewrites
every PeriodicTask row naming the old task. A new database has none, so nothing changes there.
"""

from django.db import migrations

OLD_TASK = "sentinel.riskmodel.tasks.measure_model_drift"
NEW_TASK = "sentinel.pipeline.tasks.measure_model_drift"


def _retask(apps, old: str, new: str) -> None:
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task=old).update(task=new)


def forwards(apps, schema_editor) -> None:
    _retask(apps, OLD_TASK, NEW_TASK)


def backwards(apps, schema_editor) -> None:
    _retask(apps, NEW_TASK, OLD_TASK)


class Migration(migrations.Migration):
    dependencies = [
        ("pipeline", "0001_initial"),
        ("django_celery_beat", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]

"""The one trigger function every history table's triggers run (sentinel.history)."""

from django.db import migrations

from sentinel.history import FUNCTION, FUNCTION_SQL


class Migration(migrations.Migration):
    dependencies = [("sentinel", "0001_staff_groups")]

    operations = [
        migrations.RunSQL(FUNCTION_SQL, f"DROP FUNCTION IF EXISTS {FUNCTION}() CASCADE;"),
    ]

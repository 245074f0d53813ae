"""Carry DRF authtoken tokens (stored in plain text) over as hashed, expiring tokens.

rest_framework.authtoken is no longer installed, so its table is read with SQL when present.
Each old key becomes a token with the same secret (scripts keep working) expiring 30 days
after this migration; the plain-text rows are then deleted. The emptied table is left for
an operator to drop.
"""

import hashlib
from datetime import timedelta

from django.db import migrations
from django.utils import timezone

OLD_TABLE = "authtoken_token"


def carry_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("accounts", "ApiToken")
    expires_at = timezone.now() + timedelta(days=30)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {OLD_TABLE}")  # noqa: S608
        rows = cursor.fetchall()
        for key, user_id, created in rows:
            ApiToken.objects.get_or_create(
                digest=hashlib.sha256(key.encode()).hexdigest(),
                defaults={
                    "user_id": user_id,
                    "name": "carried over from the DRF token",
                    "prefix": key[:8],
                    "created_at": min(created, expires_at - timedelta(seconds=1)),
                    "expires_at": expires_at,
                },
            )
        cursor.execute(f"DELETE FROM {OLD_TABLE}")  # noqa: S608


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(carry_tokens, migrations.RunPython.noop)]

"""Name screening joins the audit trail: lists, imports (and their removals' approval) and the
four-eyes false positives."""

from django.db import migrations

from sentinel.audit.triggers import SCREENING


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_exchange_rates_audited"),
        ("screening", "0004_false_positives"),
    ]

    operations = [audited.operation() for audited in SCREENING]

"""Exchange rates join the audit trail: who entered, imported or corrected which rate."""

from django.db import migrations

from sentinel.audit.triggers import EXCHANGE_RATES


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("transactions", "0009_exchange_rates_reporting_currency"),
    ]

    operations = [EXCHANGE_RATES.operation()]

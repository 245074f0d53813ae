"""Back-tests of a network parameter version join the audit trail: who asked for which
version, over which partner and period (the task's progress and result are not kept)."""

from django.db import migrations

from sentinel.audit.triggers import NETWORK_BACKTESTS


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_network_parameters_audited"),
        ("network", "0007_parameter_backtests"),
    ]

    operations = [NETWORK_BACKTESTS.operation()]

"""The network detectors' parameters join the audit trail: versions drafted, four-eyes
requests and their decisions, and the version in force."""

from django.db import migrations

from sentinel.audit.triggers import NETWORK_PARAMETERS


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_screening_audited"),
        ("network", "0003_detector_parameters"),
    ]

    operations = [audited.operation() for audited in NETWORK_PARAMETERS]

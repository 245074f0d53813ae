"""Install the screening rules in shadow (sentinel.screening.default_rules)."""

from django.db import migrations

from rules.default_pack import pack_install
from sentinel.screening.default_rules import SCREENING_RULES


def install(apps, schema_editor) -> None:
    pack_install(apps, SCREENING_RULES, status="shadow")


def uninstall(apps, schema_editor) -> None:
    """Leaves the rules: their versions are append-only history, which no migration deletes.
    Installing again skips them (``install`` passes over codes that exist)."""


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0001_initial"),
        ("rules", "0006_change_requests_pinned"),
    ]

    operations = [migrations.RunPython(install, uninstall)]

"""Install the screening rules in shadow (sentinel.screening.default_rules)."""

from django.db import migrations

from rules.default_pack import INSTALL_COMMENT
from sentinel.screening.default_rules import SCREENING_RULES


def install(apps, schema_editor) -> None:
    Rule = apps.get_model("rules", "Rule")
    RuleVersion = apps.get_model("rules", "RuleVersion")
    for pack_rule in SCREENING_RULES:
        if Rule.objects.filter(code=pack_rule.code).exists():
            continue
        rule = Rule.objects.create(code=pack_rule.code, status="draft")
        version = RuleVersion.objects.create(
            rule=rule, number=1, author=None, comment=INSTALL_COMMENT, **pack_rule.version_fields()
        )
        rule.version, rule.status = version, "shadow"
        rule.save(update_fields=["version", "status"])


def uninstall(apps, schema_editor) -> None:
    """Leaves the rules: their versions are append-only history, which no migration deletes.
    Installing again skips them (``install`` passes over codes that exist)."""


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0001_initial"),
        ("rules", "0006_change_requests_pinned"),
    ]

    operations = [migrations.RunPython(install, uninstall)]

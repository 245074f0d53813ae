"""The network ring rules (rules.default_pack.NETWORK_RING_PACK), raised by the scheduled
window scan: installed as drafts, like the other network rules, since network analytics is
off by default (docs/network.md)."""

from django.db import migrations

from rules.default_pack import INSTALL_COMMENT, NETWORK_RING_PACK


def install(apps, schema_editor) -> None:
    Rule = apps.get_model("rules", "Rule")
    RuleVersion = apps.get_model("rules", "RuleVersion")
    for pack_rule in NETWORK_RING_PACK:
        if Rule.objects.filter(code=pack_rule.code).exists():
            continue
        rule = Rule.objects.create(code=pack_rule.code, status="draft")
        version = RuleVersion.objects.create(
            rule=rule, number=1, author=None, comment=INSTALL_COMMENT, **pack_rule.version_fields()
        )
        rule.version = version
        rule.save(update_fields=["version"])


def uninstall(apps, schema_editor) -> None:
    """Leaves the rules: their versions are append-only history, which no migration deletes.
    Installing again skips them (``install`` passes over codes that exist)."""


class Migration(migrations.Migration):
    dependencies = [
        ("rules", "0007_network_typologies"),
    ]

    operations = [migrations.RunPython(install, uninstall)]

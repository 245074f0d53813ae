"""Install the default rule pack, its lists and the decision thresholds (rules.default_pack)."""

from django.db import migrations

from rules.default_pack import INSTALL_COMMENT, LISTS, PACK
from rules.lists import normalize_entry


def install(apps, schema_editor) -> None:
    RuleList = apps.get_model("rules", "RuleList")
    ListEntry = apps.get_model("rules", "ListEntry")
    Rule = apps.get_model("rules", "Rule")
    RuleVersion = apps.get_model("rules", "RuleVersion")
    DecisionThresholds = apps.get_model("rules", "DecisionThresholds")
    for pack_list in LISTS:
        rule_list = RuleList.objects.create(
            name=pack_list.name,
            kind=pack_list.kind,
            description=pack_list.description,
            source=pack_list.source,
        )
        ListEntry.objects.bulk_create(
            ListEntry(
                rule_list=rule_list,
                value=entry.value,
                normalized=normalize_entry(pack_list.kind, entry.value),
                note=entry.note,
            )
            for entry in pack_list.entries
        )
    for pack_rule in PACK:
        # A running rule must have a version (a check constraint): draft first, then live.
        rule = Rule.objects.create(code=pack_rule.code, status="draft")
        version = RuleVersion.objects.create(
            rule=rule, number=1, author=None, comment=INSTALL_COMMENT, **pack_rule.version_fields()
        )
        rule.version, rule.status = version, "live"
        rule.save(update_fields=["version", "status"])
    DecisionThresholds.objects.get_or_create(pk=1)


def uninstall(apps, schema_editor) -> None:
    RuleList = apps.get_model("rules", "RuleList")
    Rule = apps.get_model("rules", "Rule")
    DecisionThresholds = apps.get_model("rules", "DecisionThresholds")
    rules = Rule.objects.filter(code__in=[pack_rule.code for pack_rule in PACK])
    rules.update(version=None, status="draft")  # versions are protected while in effect
    rules.delete()
    RuleList.objects.filter(name__in=[pack_list.name for pack_list in LISTS]).delete()
    DecisionThresholds.objects.filter(pk=1).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("rules", "0001_initial"),
        ("transactions", "0002_partner_name_unique_ignoring_case"),
    ]

    operations = [migrations.RunPython(install, uninstall)]

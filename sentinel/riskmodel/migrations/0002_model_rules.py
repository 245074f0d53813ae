"""Install the rules on model.score and model.anomaly as drafts (riskmodel.default_rules): the
risk model is off by default (SENTINEL_RISK_MODEL); once a version is live, an officer puts
them in shadow or live through the usual request and approval."""

from django.db import migrations

from sentinel.riskmodel.default_rules import INSTALL_COMMENT, RULES


def install(apps, schema_editor) -> None:
    Rule = apps.get_model("rules", "Rule")
    RuleVersion = apps.get_model("rules", "RuleVersion")
    for fields in RULES:
        fields = dict(fields)
        if Rule.objects.filter(code=fields["code"]).exists():
            continue
        rule = Rule.objects.create(code=fields.pop("code"), status="draft")
        version = RuleVersion.objects.create(
            rule=rule, number=1, author=None, comment=INSTALL_COMMENT, **fields
        )
        rule.version = version
        rule.save(update_fields=["version"])


def uninstall(apps, schema_editor) -> None:
    """Leaves the rules: their versions are append-only history, which no migration deletes.
    Installing again skips them (``install`` passes over codes that exist)."""


class Migration(migrations.Migration):
    dependencies = [
        ("riskmodel", "0001_initial"),
        ("rules", "0006_change_requests_pinned"),
    ]

    operations = [migrations.RunPython(install, uninstall)]

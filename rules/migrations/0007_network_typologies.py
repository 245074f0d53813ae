"""The network typologies, and the network rules of the default pack (rules.default_pack)."""

import django.contrib.postgres.fields
from django.db import migrations, models

from rules.default_pack import INSTALL_COMMENT, NETWORK_PACK


def install(apps, schema_editor) -> None:
    Rule = apps.get_model("rules", "Rule")
    RuleVersion = apps.get_model("rules", "RuleVersion")
    # Drafts: network analytics is off by default (SENTINEL_NETWORK_ANALYTICS); an officer
    # puts them live through the four-eyes flow once it is on (docs/network.md).
    for pack_rule in NETWORK_PACK:
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
        ("rules", "0006_change_requests_pinned"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ruleversion",
            name="typologies",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(
                    choices=[
                        ("large_cash", "Large cash or wire over the reporting threshold"),
                        ("structuring", "Structuring just below the threshold"),
                        ("velocity", "Excessive transfer velocity"),
                        ("fan_in", "Fan-in from many senders"),
                        ("fan_out", "Fan-out to many new beneficiaries"),
                        ("pass_through", "Rapid pass-through"),
                        ("high_risk_country", "High-risk jurisdiction counterparty"),
                        ("list_hit", "Sanctions or watch-list hit"),
                        ("card_testing", "Card testing"),
                        ("dormant_reactivation", "Dormant account reactivation"),
                        ("round_amounts", "Large round-amount transfers"),
                        ("cycle", "Funds cycling back to their sender (round-tripping)"),
                        ("layering", "Layering chains across accounts"),
                    ],
                    max_length=30,
                ),
                blank=True,
                default=list,
                size=None,
            ),
        ),
        migrations.AlterField(
            model_name="typologylabel",
            name="typology",
            field=models.CharField(
                choices=[
                    ("large_cash", "Large cash or wire over the reporting threshold"),
                    ("structuring", "Structuring just below the threshold"),
                    ("velocity", "Excessive transfer velocity"),
                    ("fan_in", "Fan-in from many senders"),
                    ("fan_out", "Fan-out to many new beneficiaries"),
                    ("pass_through", "Rapid pass-through"),
                    ("high_risk_country", "High-risk jurisdiction counterparty"),
                    ("list_hit", "Sanctions or watch-list hit"),
                    ("card_testing", "Card testing"),
                    ("dormant_reactivation", "Dormant account reactivation"),
                    ("round_amounts", "Large round-amount transfers"),
                    ("cycle", "Funds cycling back to their sender (round-tripping)"),
                    ("layering", "Layering chains across accounts"),
                ],
                max_length=30,
            ),
        ),
        migrations.RunPython(install, uninstall),
    ]

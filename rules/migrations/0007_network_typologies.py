"""The network typologies, and the network rules of the default pack (rules.default_pack)."""

import django.contrib.postgres.fields
from django.db import migrations, models

from rules.default_pack import NETWORK_PACK, pack_install


def install(apps, schema_editor) -> None:
    pack_install(apps, NETWORK_PACK)


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

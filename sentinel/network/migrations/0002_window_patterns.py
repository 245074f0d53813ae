"""The rings the scheduled window scan finds (NetworkPattern)."""

import django.contrib.postgres.constraints
import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations, models

import sentinel.network.models


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0001_initial"),
        ("transactions", "0010_account_counterparties"),
    ]

    operations = [
        # The exclusion constraint compares partner, kind and hub with = inside a GiST index.
        BtreeGistExtension(),
        migrations.CreateModel(
            name="NetworkPattern",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("fan_in", "Fan-in: many new payers into one account"),
                            ("fan_out", "Fan-out: one account paying many new payees"),
                            ("gather_scatter", "Gather-scatter: many → one → many"),
                            ("scatter_gather", "Scatter-gather: one → many → one"),
                            ("bipartite", "Bipartite: a set of senders paying a set of receivers"),
                            (
                                "stack",
                                "Stacked layers: senders → receivers that pay on → receivers",
                            ),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "hub",
                    models.CharField(
                        help_text="The partner's account at its centre: the alert's subject.",
                        max_length=64,
                    ),
                ),
                (
                    "members",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(max_length=64), size=None
                    ),
                ),
                (
                    "transactions",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.UUIDField(), size=None
                    ),
                ),
                (
                    "first_at",
                    models.DateTimeField(help_text="Its earliest transfer when first found."),
                ),
                (
                    "last_at",
                    models.DateTimeField(help_text="Its latest transfer, as re-scans grow it."),
                ),
                ("found_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "partner",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="transactions.partnerbank",
                    ),
                ),
            ],
            options={
                "ordering": ["-found_at", "-id"],
                "indexes": [
                    models.Index(fields=["partner", "found_at"], name="pattern_partner_time"),
                    django.contrib.postgres.indexes.GinIndex(
                        fields=["transactions"], name="pattern_transactions"
                    ),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "kind__in",
                                [
                                    "fan_in",
                                    "fan_out",
                                    "gather_scatter",
                                    "scatter_gather",
                                    "bipartite",
                                    "stack",
                                ],
                            )
                        ),
                        name="pattern_kind_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("hub", ""), _negated=True), name="pattern_hub_set"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("last_at__gte", models.F("first_at"))),
                        name="pattern_time_ordered",
                    ),
                    django.contrib.postgres.constraints.ExclusionConstraint(
                        expressions=[
                            ("partner", "="),
                            ("kind", "="),
                            ("hub", "="),
                            (
                                sentinel.network.models.TsTzRange(
                                    "first_at", "last_at", models.Value("[]")
                                ),
                                "&&",
                            ),
                        ],
                        name="pattern_once_per_hub_and_time",
                    ),
                ],
            },
        ),
    ]

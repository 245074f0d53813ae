"""The network detectors' parameters, versioned with four eyes (ParameterVersion, append-only;
ParameterChange; ParametersInForce), seeded with version 1: the values the code ran with
before, so behaviour does not change; and each finding and ring names the version that found it.
"""

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from sentinel.history import append_only_triggers

# The values the detectors ran with as code defaults (detectors.Parameters,
# window.WindowParameters) when versions came: written out, since a migration must not follow
# later code. tests/test_parameters.py checks they still equal those defaults.
INSTALLED = {
    "max_hops": 12,
    "walk_nodes": 32,
    "edges_per_node": 20,
    "round_trip_days": 7,
    "carried_days": 35,
    "fee_tolerance_percent": Decimal("2.00"),
    "round_sum_multiple": 10,
    "forward_share_percent": Decimal("80.00"),
    "forward_hours": 24,
    "counterparty_days": 7,
    "window_days": 10,
    "history_days": 31,
    "fan_min": 5,
    "gather_scatter_min": 3,
    "scatter_gather_min": 3,
    "bipartite_min": 3,
    "bipartite_degree_max": 50,
    "bipartite_density_percent": 50,
    "ring_amount_min": Decimal("3000.00"),
}


def install(apps, schema_editor):
    version = apps.get_model("network", "ParameterVersion").objects.create(
        number=1,
        comment="Installed with Sentinel: the values of issue 16's first searches and window "
        "scan (docs/network.md says why each).",
        **INSTALLED,
    )
    apps.get_model("network", "ParametersInForce").objects.create(pk=1, version=version)


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0002_window_patterns"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ParameterChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("in_force", "Put a new version in force"),
                            ("rollback", "Roll back to an earlier version"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("pending", "Awaiting approval"),
                            ("approved", "Approved"),
                            ("rejected", "Rejected"),
                            ("withdrawn", "Withdrawn"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("requested_at", models.DateTimeField(auto_now_add=True)),
                ("comment", models.TextField(blank=True)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("decision_comment", models.TextField(blank=True)),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "detector parameter change",
                "ordering": ["-requested_at", "-pk"],
                "permissions": [
                    ("approve_parameterchange", "Can approve another officer's detector parameters")
                ],
            },
        ),
        migrations.CreateModel(
            name="ParameterVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField(unique=True)),
                (
                    "max_hops",
                    models.PositiveSmallIntegerField(
                        help_text="Longest cycle or chain searched, in hops.",
                        validators=[
                            django.core.validators.MinValueValidator(
                                2,
                                message="At least 2: each hop more costs every batch one query per direction.",
                            ),
                            django.core.validators.MaxValueValidator(
                                16,
                                message="At most 16: each hop more costs every batch one query per direction.",
                            ),
                        ],
                    ),
                ),
                (
                    "walk_nodes",
                    models.PositiveSmallIntegerField(
                        help_text="Nodes one walk may expand in all.",
                        validators=[
                            django.core.validators.MinValueValidator(
                                4,
                                message="At least 4: it bounds what one walk costs the scoring path.",
                            ),
                            django.core.validators.MaxValueValidator(
                                256,
                                message="At most 256: it bounds what one walk costs the scoring path.",
                            ),
                        ],
                    ),
                ),
                (
                    "edges_per_node",
                    models.PositiveSmallIntegerField(
                        help_text="Edges read per node and level (the earliest forward, the latest back).",
                        validators=[
                            django.core.validators.MinValueValidator(
                                5,
                                message="At least 5: it bounds what one hub's transfers cost a walk.",
                            ),
                            django.core.validators.MaxValueValidator(
                                100,
                                message="At most 100: it bounds what one hub's transfers cost a walk.",
                            ),
                        ],
                    ),
                ),
                (
                    "round_trip_days",
                    models.PositiveSmallIntegerField(
                        help_text="A time-ordered cycle must close within this many days of its first hop.",
                        validators=[
                            django.core.validators.MinValueValidator(
                                1,
                                message="At least 1: the graph keeps transfers for weeks, not months.",
                            ),
                            django.core.validators.MaxValueValidator(
                                35,
                                message="At most 35: the graph keeps transfers for weeks, not months.",
                            ),
                        ],
                    ),
                ),
                (
                    "carried_days",
                    models.PositiveSmallIntegerField(
                        help_text="The same sum carried hop by hop is followed this many days either side.",
                        validators=[
                            django.core.validators.MinValueValidator(
                                1,
                                message="At least 1: the graph keeps transfers for weeks, not months.",
                            ),
                            django.core.validators.MaxValueValidator(
                                35,
                                message="At most 35: the graph keeps transfers for weeks, not months.",
                            ),
                        ],
                    ),
                ),
                (
                    "fee_tolerance_percent",
                    models.DecimalField(
                        decimal_places=2,
                        help_text="What a hop may keep of the sum and still carry it on (fees), in %.",
                        max_digits=4,
                        validators=[
                            django.core.validators.MinValueValidator(
                                0,
                                message="At least 0: fees above a fifth are not the same sum carried on.",
                            ),
                            django.core.validators.MaxValueValidator(
                                20,
                                message="At most 20: fees above a fifth are not the same sum carried on.",
                            ),
                        ],
                    ),
                ),
                (
                    "round_sum_multiple",
                    models.PositiveIntegerField(
                        help_text="A sum that is a multiple of this is not followed as carried (0: every sum).",
                        validators=[
                            django.core.validators.MinValueValidator(
                                0, message="At least 0: 0 turns the exclusion off."
                            ),
                            django.core.validators.MaxValueValidator(
                                1000000, message="At most 1,000,000: 0 turns the exclusion off."
                            ),
                        ],
                    ),
                ),
                (
                    "forward_share_percent",
                    models.DecimalField(
                        decimal_places=2,
                        help_text="A layering chain's account forwards at least this share of what it got, in %.",
                        max_digits=5,
                        validators=[
                            django.core.validators.MinValueValidator(
                                50,
                                message="At least 50: forwarding less than half is not passing money through.",
                            ),
                            django.core.validators.MaxValueValidator(
                                100,
                                message="At most 100: forwarding less than half is not passing money through.",
                            ),
                        ],
                    ),
                ),
                (
                    "forward_hours",
                    models.PositiveSmallIntegerField(
                        help_text="... within this many hours.",
                        validators=[
                            django.core.validators.MinValueValidator(
                                1,
                                message="At least 1: a pass-through forwards within hours, a week at most.",
                            ),
                            django.core.validators.MaxValueValidator(
                                168,
                                message="At most 168: a pass-through forwards within hours, a week at most.",
                            ),
                        ],
                    ),
                ),
                (
                    "counterparty_days",
                    models.PositiveSmallIntegerField(
                        help_text="network.fan_in_accounts and fan_out_accounts count over this many days.",
                        validators=[
                            django.core.validators.MinValueValidator(
                                1,
                                message="At least 1: the graph keeps transfers for weeks, not months.",
                            ),
                            django.core.validators.MaxValueValidator(
                                35,
                                message="At most 35: the graph keeps transfers for weeks, not months.",
                            ),
                        ],
                    ),
                ),
                (
                    "window_days",
                    models.PositiveSmallIntegerField(
                        help_text="The scan reads the last this many days.",
                        validators=[
                            django.core.validators.MinValueValidator(
                                1,
                                message="At least 1: the scan reads the whole window in one transaction.",
                            ),
                            django.core.validators.MaxValueValidator(
                                30,
                                message="At most 30: the scan reads the whole window in one transaction.",
                            ),
                        ],
                    ),
                ),
                (
                    "history_days",
                    models.PositiveSmallIntegerField(
                        help_text="A pair is new when it had no transfer in this many days before the window; a graph holding less is not scanned.",
                        validators=[
                            django.core.validators.MinValueValidator(
                                0, message="At least 0: the graph must hold it before the window."
                            ),
                            django.core.validators.MaxValueValidator(
                                60, message="At most 60: the graph must hold it before the window."
                            ),
                        ],
                    ),
                ),
                (
                    "fan_min",
                    models.PositiveIntegerField(
                        help_text="New payers (payees) that make a fan-in (out).",
                        validators=[
                            django.core.validators.MinValueValidator(
                                2, message="At least 2: one counterparty is no fan."
                            ),
                            django.core.validators.MaxValueValidator(
                                1000, message="At most 1,000: one counterparty is no fan."
                            ),
                        ],
                    ),
                ),
                (
                    "gather_scatter_min",
                    models.PositiveIntegerField(
                        help_text="New payers, then new payees.",
                        validators=[
                            django.core.validators.MinValueValidator(
                                2,
                                message="At least 2: one payer and one payee is a transfer, not a shape.",
                            ),
                            django.core.validators.MaxValueValidator(
                                1000,
                                message="At most 1,000: one payer and one payee is a transfer, not a shape.",
                            ),
                        ],
                    ),
                ),
                (
                    "scatter_gather_min",
                    models.PositiveIntegerField(
                        help_text="Intermediaries between one source and one sink.",
                        validators=[
                            django.core.validators.MinValueValidator(
                                2, message="At least 2: one intermediary is a chain, not a shape."
                            ),
                            django.core.validators.MaxValueValidator(
                                1000,
                                message="At most 1,000: one intermediary is a chain, not a shape.",
                            ),
                        ],
                    ),
                ),
                (
                    "bipartite_min",
                    models.PositiveIntegerField(
                        help_text="Senders and receivers, each side.",
                        validators=[
                            django.core.validators.MinValueValidator(
                                2, message="At least 2: a set of one is an account."
                            ),
                            django.core.validators.MaxValueValidator(
                                1000, message="At most 1,000: a set of one is an account."
                            ),
                        ],
                    ),
                ),
                (
                    "bipartite_degree_max",
                    models.PositiveIntegerField(
                        help_text="An account with more new counterparties is a fan, not a set member.",
                        validators=[
                            django.core.validators.MinValueValidator(
                                2,
                                message="At least 2: set members pay or are paid by two at least.",
                            ),
                            django.core.validators.MaxValueValidator(
                                10000,
                                message="At most 10,000: set members pay or are paid by two at least.",
                            ),
                        ],
                    ),
                ),
                (
                    "bipartite_density_percent",
                    models.PositiveSmallIntegerField(
                        help_text="Share of a set's sender-receiver pairs that must be paid, in %.",
                        validators=[
                            django.core.validators.MinValueValidator(
                                1, message="At least 1: a share of the pairs."
                            ),
                            django.core.validators.MaxValueValidator(
                                100, message="At most 100: a share of the pairs."
                            ),
                        ],
                    ),
                ),
                (
                    "ring_amount_min",
                    models.DecimalField(
                        decimal_places=2,
                        help_text="A ring's transfers add up to this in one currency at least.",
                        max_digits=12,
                        validators=[
                            django.core.validators.MinValueValidator(
                                0, message="At least 0: in the transactions' own currency."
                            ),
                            django.core.validators.MaxValueValidator(
                                1000000000,
                                message="At most 1,000,000,000: in the transactions' own currency.",
                            ),
                        ],
                    ),
                ),
                (
                    "comment",
                    models.TextField(
                        help_text="Why this version: what it changes and on what evidence."
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "author",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty for the version installed with Sentinel.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "based_on",
                    models.ForeignKey(
                        blank=True,
                        help_text="The version in force when this one was drafted.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="network.parameterversion",
                    ),
                ),
            ],
            options={
                "verbose_name": "detector parameter version",
                "ordering": ["-number"],
            },
        ),
        migrations.CreateModel(
            name="ParametersInForce",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("since", models.DateTimeField(auto_now=True)),
                (
                    "change",
                    models.ForeignKey(
                        blank=True,
                        help_text="The approved request that put it in force; empty when installed.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="network.parameterchange",
                    ),
                ),
                (
                    "version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="network.parameterversion",
                    ),
                ),
            ],
            options={
                "verbose_name": "detector parameters in force",
                "verbose_name_plural": "detector parameters in force",
            },
        ),
        migrations.AddField(
            model_name="parameterchange",
            name="base_version",
            field=models.ForeignKey(
                blank=True,
                help_text="The version in force when the request was made.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="network.parameterversion",
            ),
        ),
        migrations.AddField(
            model_name="parameterchange",
            name="version",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="changes",
                to="network.parameterversion",
            ),
        ),
        migrations.AddField(
            model_name="networkfinding",
            name="parameters",
            field=models.ForeignKey(
                blank=True,
                help_text="The detector parameters that found it; empty when found before parameters were versioned, or by a bench or test run with parameters of its own.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="network.parameterversion",
            ),
        ),
        migrations.AddField(
            model_name="networkpattern",
            name="parameters",
            field=models.ForeignKey(
                blank=True,
                help_text="The detector parameters that found it; empty when found before parameters were versioned, or by a bench or test run with parameters of its own. A re-scan that grows the ring keeps it.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="network.parameterversion",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("max_hops__gte", 2), ("max_hops__lte", 16)),
                name="parameters_max_hops_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("walk_nodes__gte", 4), ("walk_nodes__lte", 256)),
                name="parameters_walk_nodes_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("edges_per_node__gte", 5), ("edges_per_node__lte", 100)),
                name="parameters_edges_per_node_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("round_trip_days__gte", 1), ("round_trip_days__lte", 35)),
                name="parameters_round_trip_days_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("carried_days__gte", 1), ("carried_days__lte", 35)),
                name="parameters_carried_days_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("fee_tolerance_percent__gte", 0), ("fee_tolerance_percent__lte", 20)
                ),
                name="parameters_fee_tolerance_percent_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("round_sum_multiple__gte", 0), ("round_sum_multiple__lte", 1000000)
                ),
                name="parameters_round_sum_multiple_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("forward_share_percent__gte", 50), ("forward_share_percent__lte", 100)
                ),
                name="parameters_forward_share_percent_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("forward_hours__gte", 1), ("forward_hours__lte", 168)),
                name="parameters_forward_hours_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("counterparty_days__gte", 1), ("counterparty_days__lte", 35)),
                name="parameters_counterparty_days_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("window_days__gte", 1), ("window_days__lte", 30)),
                name="parameters_window_days_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("history_days__gte", 0), ("history_days__lte", 60)),
                name="parameters_history_days_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("fan_min__gte", 2), ("fan_min__lte", 1000)),
                name="parameters_fan_min_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("gather_scatter_min__gte", 2), ("gather_scatter_min__lte", 1000)
                ),
                name="parameters_gather_scatter_min_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("scatter_gather_min__gte", 2), ("scatter_gather_min__lte", 1000)
                ),
                name="parameters_scatter_gather_min_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("bipartite_min__gte", 2), ("bipartite_min__lte", 1000)),
                name="parameters_bipartite_min_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("bipartite_degree_max__gte", 2), ("bipartite_degree_max__lte", 10000)
                ),
                name="parameters_bipartite_degree_max_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("bipartite_density_percent__gte", 1), ("bipartite_density_percent__lte", 100)
                ),
                name="parameters_bipartite_density_percent_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("ring_amount_min__gte", 0), ("ring_amount_min__lte", 1000000000)
                ),
                name="parameters_ring_amount_min_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("round_sum_multiple", 0), ("round_sum_multiple__gte", 10), _connector="OR"
                ),
                name="parameters_round_sum_off_or_ten",
            ),
        ),
        migrations.AddConstraint(
            model_name="parametersinforce",
            constraint=models.CheckConstraint(
                condition=models.Q(("id", 1)), name="parameters_in_force_one"
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterchange",
            constraint=models.UniqueConstraint(
                condition=models.Q(("state", "pending")),
                fields=("state",),
                name="parameter_change_one_pending",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterchange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("decided_by__isnull", True),
                    models.Q(("decided_by", models.F("requested_by")), _negated=True),
                    _connector="OR",
                ),
                name="parameter_change_four_eyes",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterchange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("state", "pending"), ("decided_at__isnull", False), _connector="OR"
                ),
                name="parameter_change_decided_has_time",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterchange",
            constraint=models.CheckConstraint(
                condition=models.Q(("action__in", ["in_force", "rollback"])),
                name="parameter_change_action",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterchange",
            constraint=models.CheckConstraint(
                condition=models.Q(("state__in", ["pending", "approved", "rejected", "withdrawn"])),
                name="parameter_change_state",
            ),
        ),
        migrations.RunPython(install, migrations.RunPython.noop),
        append_only_triggers("network_parameterversion"),
    ]

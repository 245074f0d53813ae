"""The operational monitor's models, taken over from ``transactions`` without copying a row.

``transactions`` 0005 drops the models from its state only; here they enter this app's state
and their tables are renamed in place (ALTER TABLE ... RENAME: a catalogue change, no rows
rewritten), with the identity sequences that carry the table's name. Constraints and indexes
keep the names they were created with: Django names its own ones explicitly (``Meta``) and
finds the automatic ones (primary keys, foreign keys, positive-integer checks) by
introspection, and every database, new or old, reaches this state through the same steps.
Foreign keys to ``transactions.PartnerBank`` are untouched.
"""

import django.db.models.deletion
import django.db.models.expressions
from django.db import migrations, models

# (old table, new table, identity sequence or None)
TABLES = [
    ("transactions_monitorwatermark", "monitoring_monitorwatermark", None),
    ("transactions_monitorsettings", "monitoring_monitorsettings", None),
    ("transactions_minutestat", "monitoring_minutestat", "id_seq"),
    ("transactions_operationalalert", "monitoring_operationalalert", "id_seq"),
    ("transactions_operationalalertevent", "monitoring_operationalalertevent", "id_seq"),
]


def _rename(old: str, new: str, sequence: str | None) -> migrations.RunSQL:
    forwards = [f"ALTER TABLE {old} RENAME TO {new}"]
    backwards = [f"ALTER TABLE {new} RENAME TO {old}"]
    if sequence:
        forwards.append(f"ALTER SEQUENCE {old}_{sequence} RENAME TO {new}_{sequence}")
        backwards.insert(0, f"ALTER SEQUENCE {new}_{sequence} RENAME TO {old}_{sequence}")
    return migrations.RunSQL(sql=forwards, reverse_sql=backwards)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("transactions", "0005_monitor_moves_to_monitoring"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[_rename(*table) for table in TABLES],
            state_operations=[
                migrations.CreateModel(
                    name="MonitorWatermark",
                    fields=[
                        (
                            "name",
                            models.CharField(max_length=32, primary_key=True, serialize=False),
                        ),
                        ("position", models.DateTimeField()),
                    ],
                ),
                migrations.CreateModel(
                    name="MonitorSettings",
                    fields=[
                        (
                            "partner",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                primary_key=True,
                                related_name="monitor_settings",
                                serialize=False,
                                to="transactions.partnerbank",
                            ),
                        ),
                        (
                            "baseline_method",
                            models.CharField(
                                choices=[
                                    ("trailing", "Trailing mean + k·σ"),
                                    ("hour_of_day", "Same hour of day, mean + k·σ"),
                                    ("ewma", "Exponentially weighted mean + k·σ"),
                                ],
                                default="trailing",
                                max_length=12,
                            ),
                        ),
                        (
                            "baseline_days",
                            models.PositiveSmallIntegerField(
                                default=7,
                                help_text="Days of history before the judged minutes that form the baseline.",
                            ),
                        ),
                        (
                            "sigmas",
                            models.FloatField(
                                default=3.0, help_text="Threshold = mean + sigmas × σ."
                            ),
                        ),
                        (
                            "ewma_alpha",
                            models.FloatField(
                                default=0.02,
                                help_text="Weight of the newest minute in the EWMA baseline (0 to 1).",
                            ),
                        ),
                        (
                            "min_volume",
                            models.PositiveIntegerField(
                                default=20,
                                help_text="Minutes with fewer transactions are neither judged nor part of the baseline.",
                            ),
                        ),
                        (
                            "min_baseline_minutes",
                            models.PositiveIntegerField(
                                default=120,
                                help_text="Below this many usable baseline minutes a metric is not judged.",
                            ),
                        ),
                        ("info_minutes", models.PositiveSmallIntegerField(default=15)),
                        ("warning_minutes", models.PositiveSmallIntegerField(default=30)),
                        ("critical_minutes", models.PositiveSmallIntegerField(default=45)),
                        ("severe_minutes", models.PositiveSmallIntegerField(default=60)),
                        (
                            "is_enabled",
                            models.BooleanField(
                                default=True, help_text="Raise operational alerts."
                            ),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        "verbose_name": "monitor settings",
                        "verbose_name_plural": "monitor settings",
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("baseline_method__in", ["trailing", "hour_of_day", "ewma"])
                                ),
                                name="monitorsettings_method_valid",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("baseline_days__gte", 1), ("baseline_days__lte", 90)
                                ),
                                name="monitorsettings_baseline_days_range",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("sigmas__gt", 0)),
                                name="monitorsettings_sigmas_gt_0",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("ewma_alpha__gt", 0), ("ewma_alpha__lte", 1)),
                                name="monitorsettings_alpha_range",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("info_minutes__gte", 1),
                                    ("warning_minutes__gt", models.F("info_minutes")),
                                    ("critical_minutes__gt", models.F("warning_minutes")),
                                    ("severe_minutes__gt", models.F("critical_minutes")),
                                    ("severe_minutes__lte", 360),
                                ),
                                name="monitorsettings_severity_steps_rise",
                                violation_error_message="Persistence minutes must rise: info < warning < critical < severe ≤ 360.",
                            ),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="OperationalAlert",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "metric",
                            models.CharField(
                                choices=[
                                    ("failed_rate", "Failed rate"),
                                    ("denied_rate", "Denied rate"),
                                    ("reversed_rate", "Reversed rate"),
                                    ("latency_p95_ms", "Latency p95 (ms)"),
                                ],
                                max_length=16,
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[("open", "Open"), ("resolved", "Resolved")],
                                default="open",
                                max_length=10,
                            ),
                        ),
                        (
                            "severity",
                            models.CharField(
                                choices=[
                                    ("HEALTHY", "Healthy"),
                                    ("INFO", "Info"),
                                    ("WARNING", "Warning"),
                                    ("CRITICAL", "Critical"),
                                    ("SEVERE", "Severe"),
                                ],
                                max_length=10,
                            ),
                        ),
                        (
                            "started_minute",
                            models.DateTimeField(help_text="First minute above the threshold."),
                        ),
                        (
                            "last_minute",
                            models.DateTimeField(help_text="Latest minute judged while open."),
                        ),
                        ("persistence_minutes", models.PositiveIntegerField()),
                        ("value", models.FloatField(blank=True, null=True)),
                        ("threshold", models.FloatField(blank=True, null=True)),
                        (
                            "detail",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                help_text="The dimension values that stood out, when raised.",
                            ),
                        ),
                        ("opened_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("resolved_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "partner",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="operational_alerts",
                                to="transactions.partnerbank",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-opened_at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="OperationalAlertEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "type",
                            models.CharField(
                                choices=[
                                    ("raised", "Raised"),
                                    ("escalated", "Escalated"),
                                    ("resolved", "Resolved"),
                                ],
                                max_length=10,
                            ),
                        ),
                        (
                            "severity",
                            models.CharField(
                                choices=[
                                    ("HEALTHY", "Healthy"),
                                    ("INFO", "Info"),
                                    ("WARNING", "Warning"),
                                    ("CRITICAL", "Critical"),
                                    ("SEVERE", "Severe"),
                                ],
                                max_length=10,
                            ),
                        ),
                        ("minute", models.DateTimeField()),
                        ("persistence_minutes", models.PositiveIntegerField()),
                        ("value", models.FloatField(blank=True, null=True)),
                        ("threshold", models.FloatField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "alert",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="events",
                                to="monitoring.operationalalert",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["alert", "id"],
                    },
                ),
                migrations.CreateModel(
                    name="MinuteStat",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "minute",
                            models.DateTimeField(
                                help_text="Start of the minute (UTC), by occurred_at."
                            ),
                        ),
                        (
                            "dimension",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("channel", "Channel"),
                                    ("product", "Product"),
                                    ("acquirer", "Acquirer"),
                                    ("card_type", "Card type"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("value", models.CharField(blank=True, max_length=64)),
                        ("total", models.PositiveIntegerField()),
                        ("approved", models.PositiveIntegerField()),
                        ("failed", models.PositiveIntegerField()),
                        ("denied", models.PositiveIntegerField()),
                        ("reversed", models.PositiveIntegerField()),
                        (
                            "latency_count",
                            models.PositiveIntegerField(
                                default=0,
                                help_text="Transactions of the minute that reported latency_ms.",
                            ),
                        ),
                        ("latency_p50_ms", models.FloatField(blank=True, null=True)),
                        ("latency_p95_ms", models.FloatField(blank=True, null=True)),
                        ("updated_at", models.DateTimeField()),
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
                        "verbose_name": "minute statistic",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("partner", "dimension", "value", "minute"),
                                name="minutestat_unique",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    (
                                        "total",
                                        django.db.models.expressions.CombinedExpression(
                                            django.db.models.expressions.CombinedExpression(
                                                django.db.models.expressions.CombinedExpression(
                                                    models.F("approved"), "+", models.F("failed")
                                                ),
                                                "+",
                                                models.F("denied"),
                                            ),
                                            "+",
                                            models.F("reversed"),
                                        ),
                                    )
                                ),
                                name="minutestat_statuses_add_up",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("latency_count__lte", models.F("total"))),
                                name="minutestat_latency_count",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("dimension", ""), ("value", "")),
                                    models.Q(
                                        (
                                            "dimension__in",
                                            ["channel", "product", "acquirer", "card_type"],
                                        ),
                                        models.Q(("value", ""), _negated=True),
                                    ),
                                    _connector="OR",
                                ),
                                name="minutestat_dimension_valid",
                            ),
                        ],
                    },
                ),
                migrations.AddIndex(
                    model_name="operationalalert",
                    index=models.Index(
                        fields=["partner", "-opened_at"], name="opalert_partner_opened"
                    ),
                ),
                migrations.AddIndex(
                    model_name="operationalalert",
                    index=models.Index(
                        fields=["status", "-opened_at"], name="opalert_status_opened"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="operationalalert",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("status", "open")),
                        fields=("partner", "metric"),
                        name="operationalalert_one_open_per_metric",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="operationalalert",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            (
                                "metric__in",
                                ["failed_rate", "denied_rate", "reversed_rate", "latency_p95_ms"],
                            )
                        ),
                        name="operationalalert_metric_valid",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="operationalalert",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("severity__in", ["HEALTHY", "INFO", "WARNING", "CRITICAL", "SEVERE"]),
                            models.Q(("severity", "HEALTHY"), _negated=True),
                        ),
                        name="operationalalert_severity_valid",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="operationalalert",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("status", "open"), ("resolved_at__isnull", True)),
                            models.Q(("status", "resolved"), ("resolved_at__isnull", False)),
                            _connector="OR",
                        ),
                        name="operationalalert_resolved_at_iff_resolved",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="operationalalertevent",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("type__in", ["raised", "escalated", "resolved"])),
                        name="opalertevent_type_valid",
                    ),
                ),
            ],
        ),
    ]

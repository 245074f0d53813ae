"""The audit trail's table (append-only), its trigger function, and the audited tables'
triggers (sentinel.audit.triggers, docs/security.md)."""

import django.utils.timezone
from django.db import migrations, models

from sentinel.audit.triggers import AUDITED, FUNCTION, FUNCTION_SQL
from sentinel.history import append_only_triggers


class Migration(migrations.Migration):
    initial = True

    # The audited tables' latest migrations: the triggers attach to the tables as they are.
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("sentinel", "0002_append_only_function"),
        ("transactions", "0006_tx_partner_time_id"),
        ("rules", "0004_rule_versions_append_only"),
        ("alerts", "0006_alert_events_append_only"),
        ("monitoring", "0003_history_shared_trigger"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("insert", "Created"),
                            ("update", "Changed"),
                            ("delete", "Deleted"),
                            ("login", "Logged in"),
                            ("login_failed", "Failed login"),
                            ("permission_denied", "Permission denied"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "model",
                    models.CharField(
                        blank=True, help_text="app_label.model of the changed row.", max_length=100
                    ),
                ),
                ("object_id", models.CharField(blank=True, max_length=64)),
                (
                    "before",
                    models.JSONField(
                        blank=True, help_text="The row before (update, delete).", null=True
                    ),
                ),
                (
                    "after",
                    models.JSONField(
                        blank=True, help_text="The row after (insert, update).", null=True
                    ),
                ),
                ("actor_id", models.BigIntegerField(blank=True, null=True)),
                ("actor_username", models.CharField(blank=True, max_length=150)),
                ("method", models.CharField(blank=True, max_length=10)),
                ("path", models.CharField(blank=True, max_length=500)),
                ("ip_address", models.GenericIPAddressField(blank=True, null=True)),
                (
                    "context_id",
                    models.UUIDField(
                        blank=True,
                        default=None,
                        help_text="The same for every change of one request.",
                        null=True,
                    ),
                ),
            ],
            options={
                "ordering": ["-id"],
                "indexes": [
                    models.Index(fields=["at"], name="audit_event_at"),
                    models.Index(fields=["actor_username", "-id"], name="audit_event_actor"),
                    models.Index(fields=["model", "object_id", "-id"], name="audit_event_object"),
                    models.Index(fields=["action", "-id"], name="audit_event_action"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "action__in",
                                [
                                    "insert",
                                    "update",
                                    "delete",
                                    "login",
                                    "login_failed",
                                    "permission_denied",
                                ],
                            )
                        ),
                        name="audit_event_action_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("action__in", ("insert", "update", "delete")), _negated=True),
                            models.Q(
                                models.Q(("model", ""), _negated=True),
                                models.Q(("object_id", ""), _negated=True),
                            ),
                            _connector="OR",
                        ),
                        name="audit_event_change_names_its_row",
                    ),
                ],
            },
        ),
        append_only_triggers("audit_auditevent"),
        migrations.RunSQL(FUNCTION_SQL, f"DROP FUNCTION IF EXISTS {FUNCTION}() CASCADE;"),
        *(audited.operation() for audited in AUDITED),
    ]

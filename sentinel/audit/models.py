"""One append-only table for the whole audit trail (docs/security.md § Audit trail)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from sentinel.history import AppendOnlyModel

from .choices import ROW_ACTIONS, AuditAction

MAX_USERNAME = 150  # auth.User.username's length: a failed login's name is cut to it
MAX_PATH = 500


class AuditEvent(AppendOnlyModel):
    """A change to an audited row (written by the database trigger ``sentinel_audit_row``,
    whatever made it), or a login, failed login or refused request (written by Python).

    ``actor_id`` is the acting user's id without a foreign key, and ``actor_username`` a
    snapshot of the name at the time: the trail reads the same whatever later happens to the
    user. Both are empty for changes made outside a request (migrations, commands, tasks) and
    for refusals of anonymous requests; a failed login names what was typed.
    """

    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    model = models.CharField(
        max_length=100, blank=True, help_text="app_label.model of the changed row."
    )
    object_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True, help_text="The row before (update, delete).")
    after = models.JSONField(null=True, blank=True, help_text="The row after (insert, update).")
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=MAX_USERNAME, blank=True)
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=MAX_PATH, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    context_id = models.UUIDField(
        null=True, blank=True, default=None, help_text="The same for every change of one request."
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=AuditAction.values), name="audit_event_action_valid"
            ),
            models.CheckConstraint(
                condition=~Q(action__in=ROW_ACTIONS) | (~Q(model="") & ~Q(object_id="")),
                name="audit_event_change_names_its_row",
            ),
        ]
        indexes = [
            models.Index(fields=["at"], name="audit_event_at"),
            models.Index(fields=["actor_username", "-id"], name="audit_event_actor"),
            models.Index(fields=["model", "object_id", "-id"], name="audit_event_object"),
            models.Index(fields=["action", "-id"], name="audit_event_action"),
        ]

    def __str__(self) -> str:
        what = f" {self.model} #{self.object_id}" if self.model else ""
        return f"{self.get_action_display()}{what} by {self.actor_username or 'system'}"

    @property
    def changes(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for each field an update changed; every field otherwise."""
        before, after = self.before or {}, self.after or {}
        names = sorted(set(before) | set(after))
        return [
            (name, before.get(name), after.get(name))
            for name in names
            if self.action != AuditAction.UPDATE or before.get(name) != after.get(name)
        ]

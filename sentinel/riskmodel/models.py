"""Model versions governed like rules, their four-eyes changes, and what each decision's
model saw and said (the point-in-time feature snapshot training reads)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q

from sentinel.four_eyes import FourEyesRequest, four_eyes_constraints
from transactions.models import PartnerBank, Transaction

from .choices import ModelChangeAction, ModelChangeState, ModelStatus


class RealField(models.FloatField):
    """A 4-byte float: feature values need 7 significant digits, not 15, and the snapshot of
    every decision is kept."""

    def db_type(self, connection) -> str:
        return "real"


class FeatureSchema(models.Model):
    """The ordered names of a snapshot's values. A new provider's fields make a new schema;
    snapshots keep the one they were written with, so old rows stay readable."""

    names = ArrayField(models.CharField(max_length=80))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["names"], name="feature_schema_unique")]

    def __str__(self) -> str:
        return f"schema {self.pk} ({len(self.names)} features)"


class ModelVersion(models.Model):
    """One trained model: what it learnt from, the artefacts, and how it did on the hold-out.

    Never retrained in place: training makes a new version in shadow. Going live takes a
    second compliance officer (``ModelChange``); at most one version is live and one in shadow.
    Artefacts are kept in the database with their SHA-256, checked before every load.
    """

    number = models.PositiveIntegerField(unique=True)
    status = models.CharField(
        max_length=10, choices=ModelStatus.choices, default=ModelStatus.SHADOW
    )
    trained_at = models.DateTimeField(auto_now_add=True)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when the schedule or a command trained it.",
    )
    window_start = models.DateTimeField(help_text="Decisions from here (occurred_at) ...")
    holdout_start = models.DateTimeField(help_text="... trained on up to here, tested after.")
    window_end = models.DateTimeField()
    labels_as_of = models.DateTimeField(help_text="Only labels received by then were used.")
    train_rows = models.PositiveIntegerField()
    train_positives = models.PositiveIntegerField()
    holdout_rows = models.PositiveIntegerField()
    holdout_positives = models.PositiveIntegerField()
    features = ArrayField(models.CharField(max_length=80))
    library = models.CharField(max_length=40, help_text="e.g. lightgbm 4.7.0")
    artefact = models.TextField(help_text="The gradient-boosted trees, LightGBM's text format.")
    artefact_sha256 = models.CharField(max_length=64)
    anomaly_artefact = models.BinaryField(
        help_text="Isolation forests per partner segment (pickled; checked before loading)."
    )
    anomaly_sha256 = models.CharField(max_length=64)
    report = models.JSONField(default=dict)
    went_live_at = models.DateTimeField(null=True, blank=True)
    replaced = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The version live before this one went live: what a rollback restores.",
    )

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ModelStatus.values), name="model_version_status_valid"
            ),
            models.UniqueConstraint(
                fields=["status"], condition=Q(status=ModelStatus.LIVE), name="model_one_live"
            ),
            models.UniqueConstraint(
                fields=["status"], condition=Q(status=ModelStatus.SHADOW), name="model_one_shadow"
            ),
            models.CheckConstraint(
                condition=Q(window_start__lt=F("holdout_start"), holdout_start__lt=F("window_end")),
                name="model_version_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"model v{self.number} ({self.status})"


class ModelChange(FourEyesRequest):
    """A model version put live (waits for a second compliance officer), or a rollback
    (one click, at once, recorded approved: it restores a version approved before)."""

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="changes"
    )
    action = models.CharField(max_length=10, choices=ModelChangeAction.choices)
    state = models.CharField(
        max_length=10, choices=ModelChangeState.choices, default=ModelChangeState.PENDING
    )

    class Meta:
        ordering = ["-requested_at", "-pk"]
        permissions = [("approve_modelchange", "Can approve another officer's model change")]
        constraints = [
            *four_eyes_constraints("model_change"),
            models.UniqueConstraint(
                fields=["state"],
                condition=Q(state=ModelChangeState.PENDING),
                name="model_change_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.model_version} ({self.state})"


class DecisionFeatures(models.Model):
    """What the providers gave one transaction when it was decided, and what the models said.

    Written with the decision, never updated: training reads these values, not values
    rebuilt later, so nothing from after the decision (a later transaction, a late arrival,
    a profile changed since) reaches a model. ``inputs`` follows ``schema.names``.
    """

    transaction = models.OneToOneField(
        Transaction, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    # No index on the foreign keys: snapshots are read by time (training, drift), and every
    # index is paid on every decision (docs/models.md § Storage).
    partner = models.ForeignKey(
        PartnerBank, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    occurred_at = models.DateTimeField()
    decided_at = models.DateTimeField()
    schema = models.ForeignKey(
        FeatureSchema, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    inputs = ArrayField(RealField(null=True))
    model_version = models.ForeignKey(
        ModelVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    score = RealField(null=True, blank=True)
    anomaly = RealField(null=True, blank=True)
    contributions = models.JSONField(
        default=list, blank=True, help_text="Top contributing features: [name, value, SHAP]."
    )
    shadow_version = models.ForeignKey(
        ModelVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    shadow_score = RealField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "decision features"
        indexes = [models.Index(fields=["occurred_at"], name="decision_features_time")]

    def __str__(self) -> str:
        return f"features of {self.transaction_id}"


class ModelDrift(models.Model):
    """How far the live version's inputs and scores over a day moved from its training window
    (population stability index; over 0.25: shifted). Written by the daily beat task."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="drifts")
    measured_at = models.DateTimeField(auto_now_add=True)
    window_end = models.DateTimeField(help_text="The day of decisions measured ends here.")
    decisions = models.PositiveIntegerField()
    score_psi = models.FloatField(null=True, blank=True)
    worst_input_psi = models.FloatField(null=True, blank=True)
    inputs_psi = models.JSONField(default=dict, help_text="The inputs that moved most: PSI.")

    class Meta:
        ordering = ["-measured_at"]

    def __str__(self) -> str:
        return f"drift of {self.model_version} at {self.window_end:%Y-%m-%d %H:%M}"

"""Rules and their immutable versions, four-eyes changes, lists, and the decisions rules make."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

from sentinel.four_eyes import FourEyesRequest, four_eyes_constraints
from sentinel.history import AppendOnlyModel
from transactions.choices import TransactionType
from transactions.models import PartnerBank, Transaction

from .choices import (
    BacktestState,
    ChangeKind,
    ChangeState,
    DecisionOutcome,
    ListKind,
    RuleOutcome,
    RuleStatus,
    Severity,
    Typology,
)

RULE_CODE = RegexValidator(
    r"^[a-z0-9][a-z0-9_]{1,39}$", "2-40 lowercase letters, digits or underscores."
)
LIST_NAME = RegexValidator(r"^[a-z0-9_]{1,64}$", "1-64 lowercase letters, digits or underscores.")
MAX_RULE_SCORE = 1000


class Rule(models.Model):
    """A detection rule. What it checks lives in its versions; ``version`` is the one in effect.

    Only shadow and live rules run. Changing what a live rule does, or making a rule live,
    goes through a ``RuleChange`` approved by a second compliance officer.
    """

    code = models.CharField(max_length=40, unique=True, validators=[RULE_CODE])
    status = models.CharField(max_length=10, choices=RuleStatus.choices, default=RuleStatus.DRAFT)
    version = models.ForeignKey(
        "RuleVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The version in effect: evaluated when the rule is shadow or live.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RuleStatus.values), name="rule_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=RuleStatus.DRAFT) | Q(version__isnull=False),
                name="rule_running_has_version",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class RuleVersion(AppendOnlyModel):
    """One immutable state of a rule: what it checks, how bad a hit is, where it applies.

    Append-only (sentinel.history), its partner scope included: a rule with versions, their
    author and the version one was restored from cannot be deleted (PROTECT), since removing
    them would rewrite what a past decision was made by. Deactivate a user instead.
    """

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    typologies = ArrayField(
        models.CharField(max_length=30, choices=Typology.choices), default=list, blank=True
    )
    expression = models.TextField()
    severity = models.CharField(max_length=10, choices=Severity.choices)
    score = models.PositiveIntegerField(validators=[MaxValueValidator(MAX_RULE_SCORE)])
    outcome = models.CharField(max_length=10, choices=RuleOutcome.choices)
    partners = models.ManyToManyField(
        PartnerBank, blank=True, related_name="+", help_text="Empty: every partner."
    )
    transaction_types = ArrayField(
        models.CharField(max_length=20, choices=TransactionType.choices),
        default=list,
        blank=True,
        help_text="Empty: every type.",
    )
    suppression_seconds = models.PositiveIntegerField(
        default=86400,
        help_text="Repeated hits on the same subject within this time update one alert.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for versions installed with Sentinel.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    comment = models.TextField(blank=True, help_text="Why this version was made.")
    diff = models.TextField(blank=True, help_text="Unified diff from the previous version.")
    restored_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["rule", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "number"], name="rule_version_number_unique"),
            models.CheckConstraint(
                condition=Q(severity__in=Severity.values), name="rule_version_severity_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=RuleOutcome.values), name="rule_version_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(score__lte=MAX_RULE_SCORE), name="rule_version_score_bounded"
            ),
            models.CheckConstraint(
                condition=Q(suppression_seconds__lte=180 * 86400),
                name="rule_version_suppression_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule.code} v{self.number}"


class RuleChange(FourEyesRequest):
    """A change to detection that needs a second compliance officer (four eyes), and the
    history of changes to rules, lists and thresholds (immediate ones are recorded approved).

    - ``rule``: put the pinned ``version`` in effect and give the rule ``target_status``. The
      request pins the version it is about and the version in effect when it was made
      (``base_version``); approval is refused if either moved.
    - ``list``: remove the entries in ``payload["remove"]`` from ``rule_list``.
    - ``thresholds``: set the scores in ``payload["to"]``, from ``payload["from"]``.

    The database refuses an approval by the person who asked, and more than one pending
    request per rule, per list, and for the thresholds.
    """

    kind = models.CharField(max_length=10, choices=ChangeKind.choices, default=ChangeKind.RULE)
    rule = models.ForeignKey(
        Rule, null=True, blank=True, on_delete=models.CASCADE, related_name="changes"
    )
    version = models.ForeignKey(
        RuleVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes",
        help_text="The version this request is about: in effect once approved.",
    )
    base_version = models.ForeignKey(
        RuleVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The version in effect when the request was made.",
    )
    target_status = models.CharField(max_length=10, choices=RuleStatus.choices, blank=True)
    rule_list = models.ForeignKey(
        "RuleList", null=True, blank=True, on_delete=models.CASCADE, related_name="changes"
    )
    payload = models.JSONField(
        default=dict, blank=True, help_text="Lists: entries removed or added. Thresholds: from, to."
    )
    state = models.CharField(
        max_length=10, choices=ChangeState.choices, default=ChangeState.PENDING
    )

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = "change request"
        permissions = [("approve_rulechange", "Can approve another officer's rule change")]
        constraints = [
            *four_eyes_constraints("rule_change"),
            models.UniqueConstraint(
                fields=["rule"],
                condition=Q(state=ChangeState.PENDING),
                name="rule_change_one_pending",
            ),
            models.UniqueConstraint(
                fields=["rule_list"],
                condition=Q(state=ChangeState.PENDING),
                name="rule_change_one_pending_per_list",
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(state=ChangeState.PENDING, kind=ChangeKind.THRESHOLDS),
                name="rule_change_one_pending_thresholds",
            ),
            models.CheckConstraint(
                condition=Q(
                    kind=ChangeKind.RULE,
                    rule__isnull=False,
                    rule_list__isnull=True,
                    target_status__in=RuleStatus.values,
                )
                | Q(
                    kind=ChangeKind.LIST,
                    rule__isnull=True,
                    rule_list__isnull=False,
                    version__isnull=True,
                    target_status="",
                )
                | Q(
                    kind=ChangeKind.THRESHOLDS,
                    rule__isnull=True,
                    rule_list__isnull=True,
                    version__isnull=True,
                    target_status="",
                ),
                name="rule_change_kind_shape",
            ),
            models.CheckConstraint(
                condition=~Q(state=ChangeState.PENDING, kind=ChangeKind.RULE)
                | Q(version__isnull=False, base_version__isnull=False),
                name="rule_change_pending_pins_versions",
            ),
        ]

    def __str__(self) -> str:
        subject = self.rule or self.rule_list or "decision thresholds"
        return f"{subject}: {self.summary} ({self.state})"

    @property
    def summary(self) -> str:
        """What approving it does, in words."""
        if self.kind == ChangeKind.LIST:
            parts = []
            for verb, entries, total in (
                ("add", self.payload.get("add", []), self.payload.get("add_total")),
                ("remove", self.payload.get("remove", []), None),
            ):
                total = total or len(entries)
                if total:
                    shown = ", ".join(entry["value"] for entry in entries[:10])
                    more = f" and {total - 10} more" if total > 10 else ""
                    parts.append(f"{verb} {total} entries: {shown}{more}")
            text = "; ".join(parts)
            if exempting := self.payload.get("exempting_rules"):
                text += f" (rules {', '.join(exempting)} read the list as exemptions)"
            return text
        if self.kind == ChangeKind.THRESHOLDS:
            before, after = self.payload.get("from", {}), self.payload.get("to", {})
            return (
                f"review at {before.get('review_score')} → {after.get('review_score')}, "
                f"block at {before.get('block_score')} → {after.get('block_score')}"
            )
        version = f" with version {self.version.number}" if self.version_id else ""
        return f"make the rule {self.target_status}{version}"


class DecisionThresholds(models.Model):
    """Score thresholds that turn the sum of live scores into review or block. One row."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    review_score = models.PositiveIntegerField(
        default=100, help_text="A total live score at or above this asks for review."
    )
    block_score = models.PositiveIntegerField(
        default=300, help_text="A total live score at or above this blocks."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "decision thresholds"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="decision_thresholds_single_row"),
            models.CheckConstraint(
                condition=Q(block_score__gte=F("review_score")),
                name="decision_thresholds_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"review at {self.review_score}, block at {self.block_score}"


class RuleList(models.Model):
    """A named list rules refer to with ``list("name")``: sanctions, high-risk countries..."""

    name = models.CharField(max_length=64, unique=True, validators=[LIST_NAME])
    kind = models.CharField(max_length=10, choices=ListKind.choices)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=200, blank=True, help_text="Where the entries come from.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ListKind.values), name="list_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class ListEntry(models.Model):
    """One value of a list, with the normalised form matching uses (names: case, accents, order)."""

    rule_list = models.ForeignKey(RuleList, on_delete=models.CASCADE, related_name="entries")
    value = models.CharField(max_length=200)
    normalized = models.CharField(max_length=200, editable=False)
    note = models.CharField(max_length=200, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["rule_list", "normalized"]
        verbose_name_plural = "list entries"
        constraints = [
            models.UniqueConstraint(
                fields=["rule_list", "normalized"], name="list_entry_unique_per_list"
            ),
        ]

    def __str__(self) -> str:
        return self.value


class Decision(models.Model):
    """What the rules decided about one transaction; exactly one per transaction."""

    transaction = models.OneToOneField(
        Transaction, primary_key=True, on_delete=models.CASCADE, related_name="decision"
    )
    partner = models.ForeignKey(PartnerBank, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=10, choices=DecisionOutcome.choices)
    score = models.PositiveIntegerField()
    decided_at = models.DateTimeField()
    rules_evaluated = models.PositiveSmallIntegerField(default=0)
    rules_failed = models.PositiveSmallIntegerField(default=0)
    # Feature providers that failed for this transaction: the decision was made without them
    # (their rules are among rules_failed).
    degraded = ArrayField(models.CharField(max_length=40), default=list, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=DecisionOutcome.values), name="decision_outcome_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "decided_at"], name="decision_partner_time"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} ({self.score})"


class RuleHit(models.Model):
    """A rule version that fired on a transaction, with the values that made it fire.

    Shadow hits are stored the same way, flagged, and never count towards the decision.
    """

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="hits")
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="hits")
    rule_version = models.ForeignKey(RuleVersion, on_delete=models.PROTECT, related_name="hits")
    shadow = models.BooleanField(default=False)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    score = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=RuleOutcome.choices)
    explanation = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-score", "rule_id"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "rule"], name="rule_hit_once_per_rule"),
        ]
        indexes = [
            models.Index(fields=["rule", "shadow", "created_at"], name="rule_hit_rule_time"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} on {self.decision_id}"


class RuleFailure(models.Model):
    """A rule that could not be evaluated on a transaction (missing value, bad data).

    The other rules still ran; the failing one counted as not hit.
    """

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="failures")
    rule_version = models.ForeignKey(RuleVersion, on_delete=models.CASCADE, related_name="+")
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="+")
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["rule", "created_at"], name="rule_failure_rule_time"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.message}"


class Backtest(models.Model):
    """A rule version replayed over a range of stored traffic, by a Celery task."""

    rule_version = models.ForeignKey(RuleVersion, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(
        PartnerBank, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    occurred_after = models.DateTimeField()
    occurred_before = models.DateTimeField()
    state = models.CharField(
        max_length=10, choices=BacktestState.choices, default=BacktestState.QUEUED
    )
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(occurred_before__gt=F("occurred_after")),
                name="backtest_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(processed__lte=F("total")), name="backtest_progress_bounded"
            ),
        ]

    def __str__(self) -> str:
        return f"Back-test of {self.rule_version} ({self.state})"

    @property
    def progress_percent(self) -> int:
        return 100 if not self.total else int(100 * self.processed / self.total)


class TypologyLabel(models.Model):
    """Ground truth: an account known to carry a typology (planted by seed_demo, or confirmed)."""

    partner = models.ForeignKey(PartnerBank, on_delete=models.CASCADE, related_name="+")
    account_external_id = models.CharField(max_length=64)
    typology = models.CharField(max_length=30, choices=Typology.choices)
    source = models.CharField(max_length=50, default="seed_demo")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["typology", "partner", "account_external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "account_external_id", "typology"],
                name="typology_label_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.typology}: {self.account_external_id}"

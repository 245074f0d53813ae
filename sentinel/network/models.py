"""A partner's transaction graph (accounts as nodes, transfers as edges) and what was found in it.

The graph is a PostgreSQL table, one row per transfer, written in the batch's own database
transaction: a batch that rolls back leaves no edge behind and a retried one adds none twice
(docs/network.md says why this store and not a Redis adjacency).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateTimeRangeField, RangeOperators
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q

from sentinel.four_eyes import FourEyesRequest, four_eyes_constraints
from sentinel.history import AppendOnlyModel
from transactions.models import PartnerBank, Transaction

from .choices import (
    BacktestState,
    ParameterAction,
    ParameterChangeState,
    PatternKind,
    SeedReason,
)

_FOUND_WITH = (
    "The detector parameters that found it; empty when found before parameters were versioned, "
    "or by a bench or test run with parameters of its own."
)


class Transfer(models.Model):
    """One directed, time-stamped, amount-carrying edge: money from ``source`` to ``target``,
    with its value in the partner's reporting currency (so the value-loop search can compare
    hops in different currencies as it walks).

    Nodes are account ids as the partner sent them, customers' and counterparties' alike; a
    transfer both of whose sides are the partner's customers, reported once per side, is two
    parallel edges, which no search counts twice as a path.
    """

    transaction = models.OneToOneField(
        Transaction, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    partner = models.ForeignKey(
        PartnerBank, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    source = models.CharField(max_length=64)
    target = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=17, decimal_places=4)
    currency = models.CharField(max_length=3)
    value = models.DecimalField(
        max_digits=24,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="The amount in the partner's reporting currency at its day's rate (the rules' "
        "amount_base); empty when no rate converts it: such a transfer is no hop of a value "
        "loop in another currency.",
    )
    occurred_at = models.DateTimeField()
    arrival = models.BigIntegerField(
        null=True,
        blank=True,
        editable=False,
        help_text="The order transfers were added to the graph (a sequence): a search from a "
        "transfer reads only those added before it, so what it finds does not depend on how "
        "the queue batched it. Empty for edges recorded before it was kept.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(source=""), name="transfer_source_set"),
            models.CheckConstraint(condition=~Q(target=""), name="transfer_target_set"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="transfer_currency_iso"
            ),
        ]
        # The searches ask "edges out of (into) this node within this time": a range of one
        # of these, answered from the index alone (the value loop's band reads the currency
        # and the value too); the pruning deletes by time.
        indexes = [
            models.Index(
                fields=["partner", "source", "occurred_at"],
                include=["target", "amount", "currency", "value"],
                name="transfer_out",
            ),
            models.Index(
                fields=["partner", "target", "occurred_at"],
                include=["source", "amount", "currency", "value"],
                name="transfer_in",
            ),
            models.Index(fields=["occurred_at"], name="transfer_time"),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.target} {self.amount}"


class NetworkFinding(models.Model):
    """What the searches found through one transfer when it was processed: the cycle it
    closes, the chain it extends, and the accounts and transactions forming the pattern."""

    transaction = models.OneToOneField(
        Transaction, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    partner = models.ForeignKey(
        PartnerBank, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    cycle_length = models.PositiveSmallIntegerField(
        default=0, help_text="Hops of the shortest cycle through this transfer; 0: none."
    )
    cycle_days = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Days between the cycle's first and last transfer.",
    )
    cycle_time_ordered = models.BooleanField(
        default=False, help_text="Each hop of the cycle left after the previous one arrived."
    )
    carried_hops = models.PositiveSmallIntegerField(
        default=1, help_text="Hops of the longest path through it carrying about its amount."
    )
    chain_depth = models.PositiveSmallIntegerField(
        default=1,
        help_text="Hops of the time-ordered forwarding chain ending in it (each forwarded "
        "within hours of arriving).",
    )
    cycle_value_spread = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="How far the cycle's hop values lie apart, in one currency: (largest - "
        "smallest) / largest, in %; empty when a rate to compare them is missing.",
    )
    loop_length = models.PositiveSmallIntegerField(
        default=0,
        help_text="Hops of a value loop through this transfer: a cycle of 3 or more, in any "
        "time order, within the loop window, its hop values within the value spread; 0: none.",
    )
    members = ArrayField(models.CharField(max_length=64), default=list)
    transactions = ArrayField(models.UUIDField(), default=list)
    found_at = models.DateTimeField(auto_now_add=True)
    parameters = models.ForeignKey(
        "ParameterVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_FOUND_WITH,
    )

    class Meta:
        indexes = [models.Index(fields=["partner", "found_at"], name="finding_partner_time")]

    def __str__(self) -> str:
        return f"finding on {self.transaction_id}"


class TsTzRange(Func):
    """The closed time range ``[first_at, last_at]`` the exclusion constraint compares."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class NetworkPattern(models.Model):
    """A ring the scheduled window scan found over a partner's recent graph (fan-in, fan-out,
    gather-scatter, scatter-gather, bipartite, stacked layers): every member account and the
    transfers forming it.

    Not a ``NetworkFinding``: that one is what the searches found *through one transfer*
    (keyed by it, read per transaction by the ``network`` features); a ring has no single
    transfer. Re-scans grow the ring they meet again instead of adding one (services), and the
    database refuses two rings of one kind around one hub over overlapping times.
    """

    partner = models.ForeignKey(
        PartnerBank, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=20, choices=PatternKind.choices)
    hub = models.CharField(
        max_length=64, help_text="The partner's account at its centre: the alert's subject."
    )
    members = ArrayField(models.CharField(max_length=64))
    transactions = ArrayField(models.UUIDField())
    first_at = models.DateTimeField(help_text="Its earliest transfer when first found.")
    last_at = models.DateTimeField(help_text="Its latest transfer, as re-scans grow it.")
    found_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    parameters = models.ForeignKey(
        "ParameterVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_FOUND_WITH + " A re-scan that grows the ring keeps it.",
    )

    class Meta:
        ordering = ["-found_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=PatternKind.values), name="pattern_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(hub=""), name="pattern_hub_set"),
            models.CheckConstraint(
                condition=Q(last_at__gte=F("first_at")), name="pattern_time_ordered"
            ),
            ExclusionConstraint(
                name="pattern_once_per_hub_and_time",
                expressions=[
                    ("partner", RangeOperators.EQUAL),
                    ("kind", RangeOperators.EQUAL),
                    ("hub", RangeOperators.EQUAL),
                    (TsTzRange("first_at", "last_at", models.Value("[]")), RangeOperators.OVERLAPS),
                ],
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "found_at"], name="pattern_partner_time"),
            # "A known ring sharing a transfer with this one?" (the re-scan's merge).
            GinIndex(fields=["transactions"], name="pattern_transactions"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} around {self.hub} ({len(self.members)} accounts)"


# --- Detector parameters: versioned, four eyes to put one in force ---------------------------

# Proximity's ceiling: no parameter version walks further, and the table stores no account
# further (docs/network.md § Proximity says why 3); a version may walk fewer hops.
PROXIMITY_MAX_HOPS = 3

# Each parameter's sane range and why it stops there: a value outside is refused by the form,
# by full_clean and by a CHECK constraint (docs/network.md § Parameters).
BOUNDS: dict[str, tuple[int, int, str]] = {
    "max_hops": (2, 16, "each hop more costs every batch one query per direction"),
    "walk_nodes": (4, 256, "it bounds what one walk costs the scoring path"),
    "edges_per_node": (5, 100, "it bounds what one hub's transfers cost a walk"),
    "round_trip_days": (1, 35, "the graph keeps transfers for weeks, not months"),
    "carried_days": (1, 35, "the graph keeps transfers for weeks, not months"),
    "fee_tolerance_percent": (0, 20, "fees above a fifth are not the same sum carried on"),
    "round_sum_multiple": (0, 1_000_000, "0 turns the exclusion off"),
    "everyday_sum_below": (0, 1_000_000, "0 turns the exclusion off"),
    "forward_share_percent": (50, 100, "forwarding less than half is not passing money through"),
    "forward_hours": (1, 168, "a pass-through forwards within hours, a week at most"),
    "forward_most_percent": (100, 200, "paying on twice what came in is not passing it through"),
    "counterparty_days": (1, 35, "the graph keeps transfers for weeks, not months"),
    "loop_days": (1, 35, "the graph keeps transfers for weeks, not months"),
    "value_spread_percent": (0, 50, "values further apart than half are not the same money"),
    "window_days": (1, 30, "the scan reads the whole window in one transaction"),
    "history_days": (0, 60, "the graph must hold it before the window"),
    "fan_min": (2, 1000, "one counterparty is no fan"),
    "gather_scatter_min": (2, 1000, "one payer and one payee is a transfer, not a shape"),
    "scatter_gather_min": (2, 1000, "one intermediary is a chain, not a shape"),
    "bipartite_min": (2, 1000, "a set of one is an account"),
    "bipartite_degree_max": (2, 10_000, "set members pay or are paid by two at least"),
    "bipartite_density_percent": (1, 100, "a share of the pairs"),
    "ring_amount_min": (0, 1_000_000_000, "in the transactions' own currency"),
    "proximity_hops": (
        1,
        PROXIMITY_MAX_HOPS,
        "beyond 3 hops a transaction graph is a small world: most accounts are that near a seed",
    ),
    "proximity_hub_counterparties": (
        5,
        1000,
        "fewer would make ordinary customers hubs; more costs every node's read that many rows",
    ),
}
# Which fields bound a time the graph must hold (checked against its retention).
SEARCH_DAYS = ("round_trip_days", "carried_days", "counterparty_days", "loop_days")


def _bounded(name: str) -> list:
    low, high, why = BOUNDS[name]
    return [
        MinValueValidator(low, message=f"At least {low}: {why}."),
        MaxValueValidator(high, message=f"At most {high:,}: {why}."),
    ]


def _bounds_constraints() -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(**{f"{name}__gte": low, f"{name}__lte": high}),
            name=f"parameters_{name}_range",
        )
        for name, (low, high, _) in BOUNDS.items()
    ]


class ParameterVersion(AppendOnlyModel):
    """One immutable set of every network detector's parameters: the searches from each new
    transfer (detectors.py), the counterparty window of the ``network`` features, and the
    window scan (window.py), and the walk of proximity to known-bad accounts (proximity.py).

    One set for all detectors, not one per detector: the searches share their bounds (hops,
    nodes per walk, fee tolerance), a finding names the one version that found it, and an
    approver judges one consistent set. Append-only (sentinel.history); which version is in
    force is ``ParametersInForce``, moved only by an approved ``ParameterChange``.
    """

    number = models.PositiveIntegerField(unique=True)
    # The searches from each new transfer (docs/network.md § The searches).
    max_hops = models.PositiveSmallIntegerField(
        validators=_bounded("max_hops"), help_text="Longest cycle or chain searched, in hops."
    )
    walk_nodes = models.PositiveSmallIntegerField(
        validators=_bounded("walk_nodes"), help_text="Nodes one walk may expand in all."
    )
    edges_per_node = models.PositiveSmallIntegerField(
        validators=_bounded("edges_per_node"),
        help_text="Edges read per node and level (the earliest forward, the latest back).",
    )
    round_trip_days = models.PositiveSmallIntegerField(
        validators=_bounded("round_trip_days"),
        help_text="A time-ordered cycle must close within this many days of its first hop.",
    )
    carried_days = models.PositiveSmallIntegerField(
        validators=_bounded("carried_days"),
        help_text="The same sum carried hop by hop is followed this many days either side.",
    )
    fee_tolerance_percent = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        validators=_bounded("fee_tolerance_percent"),
        help_text="What a hop may keep of the sum and still carry it on (fees), in %.",
    )
    round_sum_multiple = models.PositiveIntegerField(
        validators=_bounded("round_sum_multiple"),
        help_text="A sum that is a multiple of this is not followed as carried (0: every sum).",
    )
    everyday_sum_below = models.PositiveIntegerField(
        validators=_bounded("everyday_sum_below"),
        help_text="Two hops in a row carrying whole sums under this (25.00, 50.00: what people "
        "choose to pay each other) are not taken for the same sum carried (0: they are).",
    )
    forward_share_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=_bounded("forward_share_percent"),
        help_text="A layering chain's account forwards at least this share of what it got, in %.",
    )
    forward_hours = models.PositiveSmallIntegerField(
        validators=_bounded("forward_hours"), help_text="... within this many hours."
    )
    forward_most_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=_bounded("forward_most_percent"),
        help_text="... and at most this share of it, in % (values compared in one currency: "
        "exchange and the launderers' own variations go both ways; 100: never more).",
    )
    counterparty_days = models.PositiveSmallIntegerField(
        validators=_bounded("counterparty_days"),
        help_text="network.fan_in_accounts and fan_out_accounts count over this many days.",
    )
    loop_days = models.PositiveSmallIntegerField(
        validators=_bounded("loop_days"),
        help_text="A value loop's hops, in any time order, all lie within this many days.",
    )
    value_spread_percent = models.PositiveSmallIntegerField(
        validators=_bounded("value_spread_percent"),
        help_text="A value loop's hop values, in one currency, lie at most this far apart "
        "((largest - smallest) / largest, in %): exchange spreads, fees and skims.",
    )
    # The scheduled window scan (docs/network.md § The window scan).
    window_days = models.PositiveSmallIntegerField(
        validators=_bounded("window_days"), help_text="The scan reads the last this many days."
    )
    history_days = models.PositiveSmallIntegerField(
        validators=_bounded("history_days"),
        help_text="A pair is new when it had no transfer in this many days before the window; "
        "a graph holding less is not scanned.",
    )
    fan_min = models.PositiveIntegerField(
        validators=_bounded("fan_min"), help_text="New payers (payees) that make a fan-in (out)."
    )
    gather_scatter_min = models.PositiveIntegerField(
        validators=_bounded("gather_scatter_min"), help_text="New payers, then new payees."
    )
    scatter_gather_min = models.PositiveIntegerField(
        validators=_bounded("scatter_gather_min"),
        help_text="Intermediaries between one source and one sink.",
    )
    bipartite_min = models.PositiveIntegerField(
        validators=_bounded("bipartite_min"), help_text="Senders and receivers, each side."
    )
    bipartite_degree_max = models.PositiveIntegerField(
        validators=_bounded("bipartite_degree_max"),
        help_text="An account with more new counterparties is a fan, not a set member.",
    )
    bipartite_density_percent = models.PositiveSmallIntegerField(
        validators=_bounded("bipartite_density_percent"),
        help_text="Share of a set's sender-receiver pairs that must be paid, in %.",
    )
    ring_amount_min = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=_bounded("ring_amount_min"),
        help_text="A ring's transfers add up to this in one currency at least.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for the version installed with Sentinel.",
    )
    based_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The version in force when this one was drafted.",
    )
    comment = models.TextField(help_text="Why this version: what it changes and on what evidence.")
    created_at = models.DateTimeField(auto_now_add=True)
    # Proximity to known-bad accounts (docs/network.md § Proximity).
    proximity_hops = models.PositiveSmallIntegerField(
        validators=_bounded("proximity_hops"),
        help_text="Hops from a known-bad account within which an account's proximity is kept.",
    )
    proximity_hub_counterparties = models.PositiveIntegerField(
        validators=_bounded("proximity_hub_counterparties"),
        help_text="An account with more distinct counterparties in the window passes no "
        "proximity on (a processor, a payroll bureau).",
    )

    class Meta:
        ordering = ["-number"]
        verbose_name = "detector parameter version"
        constraints = [
            *_bounds_constraints(),
            models.CheckConstraint(
                condition=Q(round_sum_multiple=0) | Q(round_sum_multiple__gte=10),
                name="parameters_round_sum_off_or_ten",
            ),
        ]

    def __str__(self) -> str:
        return f"network parameters v{self.number}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if 0 < (self.round_sum_multiple or 0) < 10:
            errors["round_sum_multiple"] = (
                "0 (every sum followed) or 10 and more: a multiple of "
                f"{self.round_sum_multiple} would leave out most whole amounts."
            )
        kept = settings.SENTINEL_NETWORK_RETENTION_DAYS
        for name in SEARCH_DAYS:
            if (getattr(self, name) or 0) > kept:
                errors[name] = (
                    f"The graph keeps {kept} days of transfers "
                    f"(SENTINEL_NETWORK_RETENTION_DAYS): a search over {getattr(self, name)} "
                    "days would see only those."
                )
        needed = (self.window_days or 0) + (self.history_days or 0)
        if needed > kept:
            errors["history_days"] = (
                f"The scan needs window + history = {needed} days of graph, but it keeps "
                f"{kept} (SENTINEL_NETWORK_RETENTION_DAYS): no partner would ever be scanned."
            )
        if errors:
            raise ValidationError(errors)

    def values(self) -> dict[str, object]:
        """Every parameter by name, in the order of ``BOUNDS``."""
        return {name: getattr(self, name) for name in BOUNDS}


class ParameterChange(FourEyesRequest):
    """A request to put a parameter version in force (or back in force: a rollback), which a
    second compliance officer approves. Pins the version in force when asked
    (``base_version``): approval is refused if it moved since. The database refuses an approval
    by the asker and more than one pending request."""

    version = models.ForeignKey(ParameterVersion, on_delete=models.PROTECT, related_name="changes")
    base_version = models.ForeignKey(
        ParameterVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The version in force when the request was made.",
    )
    action = models.CharField(max_length=10, choices=ParameterAction.choices)
    state = models.CharField(
        max_length=10, choices=ParameterChangeState.choices, default=ParameterChangeState.PENDING
    )

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = "detector parameter change"
        permissions = [
            ("approve_parameterchange", "Can approve another officer's detector parameters")
        ]
        constraints = [
            *four_eyes_constraints("parameter_change"),
            models.UniqueConstraint(
                fields=["state"],
                condition=Q(state=ParameterChangeState.PENDING),
                name="parameter_change_one_pending",
            ),
            models.CheckConstraint(
                condition=Q(action__in=ParameterAction.values), name="parameter_change_action"
            ),
            models.CheckConstraint(
                condition=Q(state__in=ParameterChangeState.values), name="parameter_change_state"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.summary} ({self.get_state_display().lower()})"

    @property
    def summary(self) -> str:
        verb = "roll back to" if self.action == ParameterAction.ROLLBACK else "put in force"
        return f"{verb} network parameters v{self.version.number}"


class ParametersInForce(models.Model):
    """The parameter version the detectors run with: one row (the CHECK holds it to one, its
    version is never empty), moved only by an approved ``ParameterChange``."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.ForeignKey(ParameterVersion, on_delete=models.PROTECT, related_name="+")
    change = models.ForeignKey(
        ParameterChange,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The approved request that put it in force; empty when installed.",
    )
    since = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "detector parameters in force"
        verbose_name_plural = "detector parameters in force"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="parameters_in_force_one")]

    def __str__(self) -> str:
        return f"v{self.version.number} in force"


class ParameterBacktest(models.Model):
    """A parameter version replayed over one partner's stored graph for a period, beside the
    version in force when it was asked for, by a Celery task (backtests.py). It writes this row
    only: no finding, ring, alert or anything else the live system reads."""

    version = models.ForeignKey(ParameterVersion, on_delete=models.PROTECT, related_name="+")
    baseline = models.ForeignKey(
        ParameterVersion,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The version in force when it was asked for: what it is compared with.",
    )
    partner = models.ForeignKey(PartnerBank, on_delete=models.CASCADE, related_name="+")
    occurred_after = models.DateTimeField()
    occurred_before = models.DateTimeField()
    state = models.CharField(
        max_length=10, choices=BacktestState.choices, default=BacktestState.QUEUED
    )
    total = models.PositiveIntegerField(
        default=0, help_text="Transfers to search from, plus the window scans."
    )
    processed = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "detector parameter back-test"
        constraints = [
            models.CheckConstraint(
                condition=Q(occurred_before__gt=F("occurred_after")),
                name="parameter_backtest_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(processed__lte=F("total")), name="parameter_backtest_progress_bounded"
            ),
            models.CheckConstraint(
                condition=Q(state__in=BacktestState.values), name="parameter_backtest_state"
            ),
        ]

    def __str__(self) -> str:
        return f"Back-test of {self.version} ({self.state})"

    @property
    def progress_percent(self) -> int:
        return 100 if not self.total else int(100 * self.processed / self.total)

    @property
    def seconds(self) -> float | None:
        """How long the run took, start to finish."""
        if self.started_at is None or self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 2)


class AccountProximity(models.Model):
    """How far an account is from the nearest known-bad account (a *seed*: watch-listed, in a
    filed SAR, or confirmed fraud by the partner) over the partner's transfer graph, either
    direction of a transfer. One row per account within the bound; none beyond it.

    Written whole by the scheduled recompute, and lowered by the incremental one when a new
    seed appears; the scoring path reads it, one indexed query per batch.
    """

    partner = models.ForeignKey(
        PartnerBank, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    account = models.CharField(max_length=64)
    hops = models.PositiveSmallIntegerField(help_text="0: the account is itself a seed.")
    seed = models.CharField(max_length=64, help_text="The nearest seed.")
    seed_reason = models.CharField(max_length=10, choices=SeedReason.choices)
    seed_note = models.CharField(
        max_length=200, help_text="Which list, case or feedback made the seed one."
    )
    path = ArrayField(
        models.CharField(max_length=64),
        help_text="The accounts from this one to the seed, both included.",
    )
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "account"], name="proximity_once"),
            models.CheckConstraint(
                condition=Q(hops__lte=PROXIMITY_MAX_HOPS), name="proximity_hops_bounded"
            ),
            models.CheckConstraint(
                condition=Q(seed_reason__in=SeedReason.values), name="proximity_reason_valid"
            ),
            models.CheckConstraint(condition=~Q(seed=""), name="proximity_seed_set"),
        ]
        verbose_name_plural = "account proximities"

    def __str__(self) -> str:
        return f"{self.account}: {self.hops} hops from {self.seed} ({self.seed_reason})"

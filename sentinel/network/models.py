"""A partner's transaction graph (accounts as nodes, transfers as edges) and what was found in it.

The graph is a PostgreSQL table, one row per transfer, written in the batch's own database
transaction: a batch that rolls back leaves no edge behind and a retried one adds none twice
(docs/network.md says why this store and not a Redis adjacency).
"""

from __future__ import annotations

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateTimeRangeField, RangeOperators
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Func, Q

from transactions.models import PartnerBank, Transaction

from .choices import PatternKind


class Transfer(models.Model):
    """One directed, time-stamped, amount-carrying edge: money from ``source`` to ``target``.

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
    occurred_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(source=""), name="transfer_source_set"),
            models.CheckConstraint(condition=~Q(target=""), name="transfer_target_set"),
        ]
        # The searches ask "edges out of (into) this node within this time": a range of one
        # of these, answered from the index alone; the pruning deletes by time.
        indexes = [
            models.Index(
                fields=["partner", "source", "occurred_at"],
                include=["target", "amount"],
                name="transfer_out",
            ),
            models.Index(
                fields=["partner", "target", "occurred_at"],
                include=["source", "amount"],
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
    members = ArrayField(models.CharField(max_length=64), default=list)
    transactions = ArrayField(models.UUIDField(), default=list)
    found_at = models.DateTimeField(auto_now_add=True)

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

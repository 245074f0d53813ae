"""Screening lists as published (sanctions, PEPs), their entries, and every import's diff."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from sentinel.history import AppendOnlyModel

from .choices import ChangeAction, EntryType, ListKind, ListSource, PartyKind, RemovalState


class ScreeningList(models.Model):
    """One published list (say "OFAC SDN"), imported from one format; ``version`` is what the
    publisher calls the edition (its publish date), as of the last import."""

    name = models.CharField(max_length=100, unique=True)
    source = models.CharField(max_length=20, choices=ListSource.choices)
    kind = models.CharField(max_length=10, choices=ListKind.choices, default=ListKind.SANCTIONS)
    version = models.CharField(max_length=100, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=ListSource.values), name="screening_list_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ListKind.values), name="screening_list_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="screening_list_has_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ScreeningEntryQuerySet(models.QuerySet):
    def in_force(self) -> ScreeningEntryQuerySet:
        """Entries screened against: not removed (a removal awaiting approval is still in force)."""
        return self.filter(removed_at__isnull=True)


class ScreeningEntry(models.Model):
    """A listed person, entity, vessel or aircraft as its publisher describes it.

    ``names`` holds every name, the primary first: ``[{"name": ..., "strength": "strong"}]``.
    Dates of birth are ISO strings, complete ("1961-07-30") or partial ("1961"); nationalities
    ISO 3166-1 alpha-2 codes. ``fingerprint`` is a digest of all of it: a re-import compares
    fingerprints to tell a changed entry from an unchanged one.
    """

    screening_list = models.ForeignKey(
        ScreeningList, on_delete=models.CASCADE, related_name="entries"
    )
    source_id = models.CharField(max_length=100, help_text="The publisher's identifier.")
    entry_type = models.CharField(max_length=10, choices=EntryType.choices)
    names = models.JSONField()
    birth_dates = models.JSONField(default=list, blank=True)
    nationalities = models.JSONField(default=list, blank=True)
    addresses = models.JSONField(default=list, blank=True)
    programmes = models.JSONField(default=list, blank=True)
    remarks = models.TextField(blank=True)
    fingerprint = models.CharField(max_length=64)
    listed_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    objects = ScreeningEntryQuerySet.as_manager()

    class Meta:
        ordering = ["screening_list", "source_id"]
        verbose_name_plural = "screening entries"
        constraints = [
            models.UniqueConstraint(
                fields=["screening_list", "source_id"], name="screening_entry_unique_source_id"
            ),
            models.CheckConstraint(
                condition=Q(entry_type__in=EntryType.values), name="screening_entry_type_valid"
            ),
            models.CheckConstraint(condition=~Q(source_id=""), name="screening_entry_has_id"),
            models.CheckConstraint(condition=~Q(names=[]), name="screening_entry_has_a_name"),
            models.CheckConstraint(
                condition=Q(fingerprint__regex=r"^[0-9a-f]{64}$"),
                name="screening_entry_fingerprint_sha256",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.primary_name} ({self.screening_list_id}:{self.source_id})"

    @property
    def primary_name(self) -> str:
        return self.names[0]["name"] if self.names else ""


class ListImport(models.Model):
    """One file imported into a list: what it added and changed (at once) and what it would
    remove, which waits for a second compliance officer (``removal_state``)."""

    screening_list = models.ForeignKey(
        ScreeningList, on_delete=models.CASCADE, related_name="imports"
    )
    version = models.CharField(max_length=100, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    file_sha256 = models.CharField(max_length=64)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0, help_text="Entries the file no longer has.")
    removal_state = models.CharField(
        max_length=10, choices=RemovalState.choices, default=RemovalState.NONE
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-imported_at", "-pk"]
        permissions = [("approve_listimport", "Can approve another officer's list removals")]
        constraints = [
            models.CheckConstraint(
                condition=Q(removal_state__in=RemovalState.values),
                name="list_import_removal_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("imported_by")),
                name="list_import_four_eyes",
            ),
            models.CheckConstraint(
                condition=Q(removal_state=RemovalState.NONE, removed=0)
                | Q(removal_state=RemovalState.PENDING, removed__gt=0, decided_at__isnull=True)
                | Q(
                    removal_state__in=[RemovalState.APPROVED, RemovalState.REJECTED],
                    removed__gt=0,
                    decided_at__isnull=False,
                    decided_by__isnull=False,
                ),
                name="list_import_removal_shape",
            ),
            models.UniqueConstraint(
                fields=["screening_list"],
                condition=Q(removal_state=RemovalState.PENDING),
                name="list_import_one_pending_removal",
            ),
        ]

    def __str__(self) -> str:
        edition = self.version or (f"{self.imported_at:%Y-%m-%d}" if self.imported_at else "")
        return f"{self.screening_list} {edition}".strip()


class EntryChange(AppendOnlyModel):
    """One line of an import's diff: an entry added, changed (``before`` and ``after``) or
    removed. Append-only: the record of what each list said when."""

    list_import = models.ForeignKey(ListImport, on_delete=models.PROTECT, related_name="changes")
    entry = models.ForeignKey(ScreeningEntry, on_delete=models.PROTECT, related_name="changes")
    action = models.CharField(max_length=10, choices=ChangeAction.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["list_import", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action=ChangeAction.ADDED, before__isnull=True, after__isnull=False)
                | Q(action=ChangeAction.CHANGED, before__isnull=False, after__isnull=False)
                | Q(action=ChangeAction.REMOVED, before__isnull=False, after__isnull=True),
                name="entry_change_shape",
            ),
            models.UniqueConstraint(
                fields=["list_import", "entry"], name="entry_change_once_per_import"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.entry}"


class ScreeningMatch(models.Model):
    """A known party found on a list by continuous screening: when entries are added or
    changed, every customer and counterparty is screened against those entries only. One row
    per (entry, party): a party matching again is not a new match."""

    entry = models.ForeignKey(ScreeningEntry, on_delete=models.PROTECT, related_name="matches")
    list_import = models.ForeignKey(
        ListImport, on_delete=models.PROTECT, related_name="matches", help_text="What changed."
    )
    party_kind = models.CharField(max_length=12, choices=PartyKind.choices)
    party_key = models.CharField(
        max_length=250, help_text="customer:<id>, or counterparty:<folded name>"
    )
    customer = models.ForeignKey(
        "transactions.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    party_name = models.CharField(max_length=200)
    party_country = models.CharField(max_length=2, blank=True)
    score = models.DecimalField(max_digits=4, decimal_places=1)
    explanation = models.JSONField()
    found_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-found_at", "-pk"]
        verbose_name_plural = "screening matches"
        constraints = [
            models.UniqueConstraint(fields=["entry", "party_key"], name="screening_match_once"),
            models.CheckConstraint(
                condition=Q(party_kind__in=PartyKind.values), name="screening_match_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=100), name="screening_match_score_0_100"
            ),
            models.CheckConstraint(
                condition=Q(party_kind=PartyKind.CUSTOMER, customer__isnull=False)
                | Q(party_kind=PartyKind.COUNTERPARTY, customer__isnull=True),
                name="screening_match_customer_shape",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.party_name} ~ {self.entry} ({self.score})"


class FalsePositive(models.Model):
    """An investigator's "not this person" on a (party, entry) pair. Once another person
    approves it, screening leaves the pair out until the entry changes (``entry_fingerprint``
    no longer the entry's) or the party's details do (``party_key``: name and country)."""

    entry = models.ForeignKey(
        ScreeningEntry, on_delete=models.CASCADE, related_name="false_positives"
    )
    entry_fingerprint = models.CharField(max_length=64)
    party_key = models.CharField(max_length=250, help_text="folded name|country")
    party_name = models.CharField(max_length=200)
    reason = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        permissions = [("approve_falsepositive", "Can approve another's false-positive decision")]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "entry_fingerprint", "party_key"],
                name="false_positive_once_per_pair",
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("requested_by")),
                name="false_positive_four_eyes",
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True, approved_at__isnull=True)
                | Q(approved_by__isnull=False, approved_at__isnull=False),
                name="false_positive_approval_complete",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="false_positive_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.party_name} is not {self.entry}"

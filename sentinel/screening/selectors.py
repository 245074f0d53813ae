"""Reads of the screening app."""

from __future__ import annotations

from django.db.models import F

from .matching.index import ListedName
from .models import FalsePositive, ListImport, ScreeningEntry


def listed_names(*, entries=None) -> list[ListedName]:
    """Every name of the entries (default: every entry in force), for an index (one query)."""
    entries = ScreeningEntry.objects.in_force() if entries is None else entries
    rows = entries.values_list(
        "pk",
        "screening_list__name",
        "screening_list__kind",
        "entry_type",
        "names",
        "birth_dates",
        "nationalities",
    )
    return [
        ListedName(
            entry_id=pk,
            list_name=list_name,
            list_kind=kind,
            entry_type=entry_type,
            name=name["name"],
            strength=name["strength"],
            birth_dates=tuple(birth_dates),
            countries=tuple(nationalities),
        )
        for pk, list_name, kind, entry_type, names, birth_dates, nationalities in rows
        for name in names
    ]


def list_imports_pending():
    return ListImport.objects.filter(removal_state="pending").select_related(
        "screening_list", "imported_by"
    )


def false_positive_pairs() -> frozenset[tuple[int, str]]:
    """The approved (entry, party) pairs still valid: the entry unchanged since the decision."""
    return frozenset(
        FalsePositive.objects.filter(
            approved_at__isnull=False,
            entry__removed_at__isnull=True,
            entry_fingerprint=F("entry__fingerprint"),
        ).values_list("entry_id", "party_key")
    )

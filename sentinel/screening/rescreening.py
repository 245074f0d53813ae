"""Continuous screening: when a list gains or changes entries, every known customer and
counterparty is screened against those entries only (a small index of them), in the
background; new matches are recorded as ``ScreeningMatch`` rows (and the pipeline, which calls
this, raises alerts for them: sentinel/pipeline/rescreening.py)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from django.db.models import Q

from transactions.models import Customer, Transaction
from transactions.selectors import party_name_key

from .choices import ChangeAction, PartyKind
from .default_rules import MATCH_SCORE
from .features import reasons
from .matching.index import Party, ScreeningIndex
from .models import ListImport, ScreeningEntry, ScreeningMatch
from .selectors import listed_names

BATCH = 5_000


def screening_rescreen(
    *, list_import: ListImport, threshold: int = MATCH_SCORE
) -> list[ScreeningMatch]:
    """Screen every known party against the entries ``list_import`` added or changed; the
    new matches recorded. Idempotent: a match already recorded is not repeated."""
    changed = ScreeningEntry.objects.in_force().filter(
        changes__list_import=list_import,
        changes__action__in=[ChangeAction.ADDED, ChangeAction.CHANGED],
    )
    index = ScreeningIndex(listed_names(entries=changed))
    if not len(index):
        return []
    known = set(
        ScreeningMatch.objects.filter(entry__in=changed).values_list("entry_id", "party_key")
    )
    found, recorded = [], []
    for kind, key, customer_id, name, country in _parties():
        for match in index.screen(Party(name, country=country)):
            if match.score * 100 < threshold or (match.entry_id, key[:250]) in known:
                continue
            found.append(
                ScreeningMatch(
                    entry_id=match.entry_id,
                    list_import=list_import,
                    party_kind=kind,
                    party_key=key[:250],
                    customer_id=customer_id,
                    party_name=name[:200],
                    party_country=country,
                    score=Decimal(f"{match.score * 100:.1f}"),
                    explanation={**match.explanation(), "reasons": reasons(match)},
                )
            )
        if len(found) >= BATCH:
            recorded += _record(found)
            found = []
    return recorded + _record(found)


def _record(found: list[ScreeningMatch]) -> list[ScreeningMatch]:
    """Insert; a match another run recorded meanwhile is skipped by the unique constraint
    (and not returned: that run raises its alerts)."""
    if not found:
        return []
    ScreeningMatch.objects.bulk_create(found, ignore_conflicts=True)
    stored = ScreeningMatch.objects.filter(
        list_import=found[0].list_import,
        entry_id__in={match.entry_id for match in found},
        party_key__in={match.party_key for match in found},
    ).select_related("entry__screening_list")
    mine = {(match.entry_id, match.party_key) for match in found}
    return [match for match in stored if (match.entry_id, match.party_key) in mine]


def _parties() -> Iterator[tuple[str, str, int | None, str, str]]:
    """(kind, key, customer id, name, country) of every customer, then every distinct
    counterparty name seen in transactions."""
    customers = Customer.objects.exclude(name="").values_list("pk", "name", "country")
    for pk, name, country in customers.iterator(chunk_size=BATCH):
        yield PartyKind.CUSTOMER, f"customer:{pk}", pk, name, country
    seen: set[str] = set()
    for side in ("originator", "beneficiary"):
        names = (
            Transaction.objects.exclude(Q(**{f"{side}_name": ""}))
            .values_list(f"{side}_name", f"{side}_country")
            .distinct()
        )
        for name, country in names.iterator(chunk_size=BATCH):
            key = f"counterparty:{party_name_key(name)}"
            if key not in seen:
                seen.add(key)
                yield PartyKind.COUNTERPARTY, key, None, name, country

"""How well the live rules find what is known to be there: the figures of ``detection_report``.

Ground truth is ``TypologyLabel``: accounts known to carry a typology (planted by seed_demo, or
confirmed by investigators). A labelled account counts as detected for its typology when a live
rule tagged with that typology hit one of its transactions; shadow hits never count. Every other
account of the labelled partners is "normal", and any live hit on it is a false alarm.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, F, When

from transactions.choices import Direction
from transactions.models import Account, Transaction

from .choices import Typology
from .models import RuleHit, RuleVersion, TypologyLabel

AccountKey = tuple[int, str]  # (partner id, the customer-side account's external id)


@dataclass(frozen=True)
class TypologyFigures:
    """One typology: its labelled accounts, and those a live rule tagged with it hit."""

    typology: str
    label: str
    planted: int
    detected: int

    @property
    def share(self) -> float | None:
        return self.detected / self.planted if self.planted else None


@dataclass(frozen=True)
class AccountFigures:
    """A group of accounts and how many of them got any live hit."""

    accounts: int
    hit: int

    @property
    def share(self) -> float | None:
        return self.hit / self.accounts if self.accounts else None


@dataclass(frozen=True)
class DetectionFigures:
    typologies: list[TypologyFigures]
    planted: AccountFigures  # labelled accounts with any live hit, whatever the rule
    normal: AccountFigures  # unlabelled accounts of the labelled partners with any live hit


def detection_report() -> list[TypologyFigures]:
    """Per typology, in ``Typology`` order: labelled accounts and how many were detected."""
    labels = _labels()
    return _typology_figures(labels, _live_hit_typologies(_partners(labels)))


def _typology_figures(
    labels: dict[str, set[AccountKey]], typologies_hit: dict[AccountKey, set[str]]
) -> list[TypologyFigures]:
    return [
        TypologyFigures(
            typology=typology.value,
            label=str(typology.label),
            planted=len(accounts := labels.get(typology.value, set())),
            detected=sum(typology.value in typologies_hit.get(key, ()) for key in accounts),
        )
        for typology in Typology
    ]


def detection_figures() -> DetectionFigures:
    """The per-typology figures with the overall ones: planted and normal accounts hit."""
    labels = _labels()
    partners = _partners(labels)
    typologies_hit = _live_hit_typologies(partners)
    labelled = set().union(*labels.values())
    normal = {
        (partner_id, external_id)
        for partner_id, external_id in Account.objects.filter(partner_id__in=partners).values_list(
            "partner_id", "external_id"
        )
    } - labelled
    return DetectionFigures(
        typologies=_typology_figures(labels, typologies_hit),
        planted=AccountFigures(len(labelled), len(labelled & typologies_hit.keys())),
        normal=AccountFigures(len(normal), len(normal & typologies_hit.keys())),
    )


def unscored_count() -> int:
    """Transactions of the labelled partners with no decision yet (queued or lost)."""
    return Transaction.objects.filter(
        partner_id__in=_partners(_labels()), decision__isnull=True
    ).count()


def _labels() -> dict[str, set[AccountKey]]:
    labels: dict[str, set[AccountKey]] = {}
    for partner_id, external_id, typology in TypologyLabel.objects.values_list(
        "partner_id", "account_external_id", "typology"
    ):
        labels.setdefault(typology, set()).add((partner_id, external_id))
    return labels


def _partners(labels: dict[str, set[AccountKey]]) -> set[int]:
    return {partner_id for accounts in labels.values() for partner_id, _ in accounts}


def _live_hit_typologies(partners: set[int]) -> dict[AccountKey, set[str]]:
    """Accounts with live hits, each with the typologies of the rule versions that hit it."""
    account = Case(
        When(
            decision__transaction__direction=Direction.OUTBOUND,
            then=F("decision__transaction__originator_account_id"),
        ),
        default=F("decision__transaction__beneficiary_account_id"),
    )
    rows = (
        RuleHit.objects.filter(shadow=False, decision__partner_id__in=partners)
        .annotate(account=account)
        .values_list("decision__partner_id", "account", "rule_version_id")
        .distinct()
    )
    hits: dict[AccountKey, set[int]] = {}
    for partner_id, external_id, version_id in rows:
        hits.setdefault((partner_id, external_id), set()).add(version_id)
    versions = dict(
        RuleVersion.objects.filter(id__in=set().union(*hits.values()) if hits else ()).values_list(
            "id", "typologies"
        )
    )
    return {
        key: {typology for version_id in ids for typology in versions[version_id]}
        for key, ids in hits.items()
    }

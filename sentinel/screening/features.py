"""Screening as a feature provider: the originator's and beneficiary's names of every
transaction against the lists in force, for rules such as
``screening.best_score >= 88 and screening.kind == "sanctions"``."""

from __future__ import annotations

from decimal import Decimal

from rules.features import FeatureBatch, FeatureField, FeatureProvider

from .choices import EntryType, ListKind
from .default_rules import MATCH_SCORE
from .matching.index import Party
from .matching.scoring import Match
from .runtime import current_index

NUMBER, STRING, LIST = "number", "string", "list"
PARTIES = ("originator", "beneficiary")


class ScreeningFeatures(FeatureProvider):
    """The best match of either party; no I/O once the process has its index."""

    name = "screening"
    fields = (
        FeatureField(
            "screening.best_score",
            NUMBER,
            "best name-screening score of the originator or beneficiary, 0 to 100 (0: no match)",
        ),
        FeatureField(
            "screening.sanctions_score",
            NUMBER,
            "best score of either party against sanctions lists, 0 to 100",
        ),
        FeatureField(
            "screening.pep_score", NUMBER, "best score of either party against PEP lists, 0 to 100"
        ),
        FeatureField("screening.list", STRING, "the list of the best match (may be empty)"),
        FeatureField(
            "screening.kind",
            STRING,
            "sanctions or pep: the kind of list of the best match (may be empty)",
            choices=tuple(ListKind.values),
        ),
        FeatureField(
            "screening.type",
            STRING,
            "person, entity, vessel or aircraft: the matched entry's type (may be empty)",
            choices=tuple(EntryType.values),
        ),
        FeatureField(
            "screening.party",
            STRING,
            "originator or beneficiary: the party of the best match (may be empty)",
            choices=PARTIES,
        ),
        FeatureField(
            "screening.reasons",
            LIST,
            "the best match explained: names, token pairs and their measures, attributes",
        ),
    )
    needs = frozenset()
    in_request = True
    budget_us = 200

    def values(self, batch: FeatureBatch) -> list[dict[str, object]]:
        index = current_index()
        if not len(index):
            return [_EMPTY for _ in batch.transactions]
        results = []
        for tx in batch.transactions:
            found = [
                (match, side)
                for side in PARTIES
                if getattr(tx, f"{side}_name")
                for match in index.screen(
                    Party(getattr(tx, f"{side}_name"), country=getattr(tx, f"{side}_country"))
                )
            ]
            if not found:
                results.append(_EMPTY)
                continue
            best, party = max(found, key=_rank)
            values = _fields(best, party)
            for kind in ListKind.values:
                scores = [match.score for match, _ in found if match.list_kind == kind]
                values[f"screening.{kind}_score"] = _score(max(scores, default=0.0))
            results.append(values)
        return results


def _rank(found: tuple[Match, str]) -> tuple[bool, bool, float]:
    """The match the fields describe: a sanctions match at the rules' threshold before a PEP
    match, whatever their scores, so a PEP never hides a sanctions hit; then the best."""
    match, _ = found
    at_threshold = match.score * 100 >= MATCH_SCORE
    return at_threshold, at_threshold and match.list_kind == ListKind.SANCTIONS, match.score


def _score(score: float) -> Decimal:
    return Decimal(f"{score * 100:.1f}")


_EMPTY: dict[str, object] = {
    "screening.best_score": Decimal(0),
    "screening.sanctions_score": Decimal(0),
    "screening.pep_score": Decimal(0),
    "screening.list": "",
    "screening.kind": "",
    "screening.type": "",
    "screening.party": "",
    "screening.reasons": (),
}


def _fields(match: Match, party: str) -> dict[str, object]:
    return {
        "screening.best_score": _score(match.score),
        "screening.list": match.list_name,
        "screening.kind": match.list_kind,
        "screening.type": match.entry_type,
        "screening.party": party,
        "screening.reasons": tuple(reasons(match, party)),
    }


def reasons(match: Match, party: str = "") -> list[str]:
    """The match in short lines, as rule explanations and pages show it."""
    comparison = match.comparison
    who = f"{party} " if party else ""
    lines = [f"{who}~ {match.matched_name} ({match.list_name} #{match.entry_id})"]
    lines.append(
        ", ".join(
            f"{p.query}={p.entry} {p.measure} {p.similarity * 100:.0f}" for p in comparison.pairs
        )
        or "no token pairs"
    )
    unmatched = comparison.unmatched_query + comparison.unmatched_entry
    if unmatched or comparison.ignored:
        ignored = " ".join(comparison.ignored) or "-"
        lines.append(f"unmatched: {' '.join(unmatched) or '-'}; ignored: {ignored}")
    for adjustment in match.adjustments:
        lines.append(f"{adjustment.attribute} {adjustment.effect * 100:+.0f}: {adjustment.why}")
    if comparison.note:
        lines.append(comparison.note)
    return lines

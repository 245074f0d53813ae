"""The screening rules Sentinel installs, in shadow (migration 0002): an officer puts them live
through four eyes once the lists are loaded and the shadow hits look right (docs/screening.md).
"""

from __future__ import annotations

from rules.choices import RuleOutcome, Severity, Typology
from rules.default_pack import PackRule

from .choices import ListKind

# The threshold the evaluation set was measured at (docs/screening.md § Evaluation).
MATCH_SCORE = 88

SCREENING_RULES = (
    PackRule(
        code="screening_sanctions_match",
        name="Party name matches a sanctions list entry",
        description=(
            "The originator's or beneficiary's name matches an entry of an imported sanctions "
            "list (fuzzy, explained match); the transaction is held for review."
        ),
        typologies=(Typology.LIST_HIT,),
        expression=(
            f'screening.kind == "sanctions" and screening.best_score >= {MATCH_SCORE} '
            "and len(screening.reasons) > 0"
        ),
        severity=Severity.CRITICAL,
        score=300,
        outcome=RuleOutcome.REVIEW,
        suppression_seconds=0,
        source=(
            f"Score {MATCH_SCORE}: precision and recall of at least 0.95 on the shipped "
            "evaluation set (manage.py screening_report). Sanctions apply from the first cent."
        ),
    ),
    PackRule(
        code="screening_pep_match",
        name="Party name matches a politically exposed person",
        description=(
            "The originator's or beneficiary's name matches an entry of an imported PEP list: "
            "an alert for enhanced due diligence, the transaction goes on."
        ),
        typologies=(Typology.LIST_HIT,),
        expression=(
            f'screening.kind == "pep" and screening.best_score >= {MATCH_SCORE} '
            "and len(screening.reasons) > 0"
        ),
        severity=Severity.MEDIUM,
        score=20,
        outcome=RuleOutcome.ALERT,
        source="FATF Recommendation 12 (politically exposed persons): enhanced due diligence.",
    ),
)

# The rule whose alert a party found on a list raises, by the kind of list (continuous
# screening: sentinel/pipeline/rescreening.py).
RULE_FOR_LIST_KIND = {
    ListKind.SANCTIONS: "screening_sanctions_match",
    ListKind.PEP: "screening_pep_match",
}

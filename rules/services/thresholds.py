"""The decision thresholds: lowering them is immediate, raising them waits for four eyes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction

from .. import engine
from ..choices import ChangeKind
from ..models import DecisionThresholds, RuleChange
from ..selectors import change_pending, thresholds_scores
from .changes import change_record, change_request


@db_transaction.atomic
def decision_thresholds_update(
    *, review_score: int, block_score: int, actor=None, comment: str = ""
) -> RuleChange | None:
    """Lower scores review or block more, and apply at once; raising either score reviews or
    blocks less, and waits for a second officer (a pending ``RuleChange``). None when nothing
    changes. Refused while a thresholds request awaits approval; a raise needs an ``actor``
    (lowering without one, from a script, is not recorded in the history)."""
    thresholds = DecisionThresholds.objects.select_for_update().filter(pk=1).first()
    if change_pending(kind=ChangeKind.THRESHOLDS) is not None:
        raise ValidationError(
            "A change to the thresholds is awaiting approval; approve, reject or withdraw it first."
        )
    current = thresholds_scores(thresholds)
    wanted = {"review_score": review_score, "block_score": block_score}
    candidate = thresholds or DecisionThresholds(pk=1)
    candidate.review_score, candidate.block_score = review_score, block_score
    if block_score < review_score:
        raise ValidationError("The block score cannot be below the review score.")
    candidate.full_clean()
    if wanted == current:
        return None
    payload = {"from": current, "to": wanted}
    if review_score > current["review_score"] or block_score > current["block_score"]:
        return change_request(
            kind=ChangeKind.THRESHOLDS, payload=payload, actor=actor, comment=comment
        )
    candidate.save()
    engine.rules_changed()
    return change_record(
        actor=actor, kind=ChangeKind.THRESHOLDS, target_status="", payload=payload, comment=comment
    )

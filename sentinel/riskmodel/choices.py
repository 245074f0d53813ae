"""Enumerations of the learned risk score."""

from django.db import models

from sentinel.four_eyes import RequestState


class ModelStatus(models.TextChoices):
    """shadow: scores every decision beside the live one, its score stored, never given to the
    rules. live: ``model.score`` in the rule language (one at a time). retired: no longer
    scores; rollback may bring the previous live one back."""

    SHADOW = "shadow", "Shadow"
    LIVE = "live", "Live"
    RETIRED = "retired", "Retired"


class ModelChangeAction(models.TextChoices):
    GO_LIVE = "go_live", "Put live"
    ROLLBACK = "rollback", "Roll back"


ModelChangeState = RequestState

"""What the pipeline keeps of its own: the transactions it could not process."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from transactions.models import PartnerBank, Transaction


class DeadLetterQuerySet(models.QuerySet):
    def waiting(self) -> DeadLetterQuerySet:
        return self.filter(resolved_at__isnull=True)


class DeadLetter(models.Model):
    """A transaction whose processing failed on its own, set aside so the rest go on.

    A batch that keeps failing is split down to the transaction that fails; that one lands
    here (with the stage and the error) instead of blocking its shard. The sweep leaves it
    alone until someone retries it (admin action, ``pipeline_retry``); a success resolves it.
    """

    transaction = models.OneToOneField(
        Transaction, primary_key=True, on_delete=models.CASCADE, related_name="dead_letter"
    )
    partner = models.ForeignKey(PartnerBank, on_delete=models.PROTECT, related_name="+")
    error = models.TextField()
    attempts = models.PositiveIntegerField(default=1)
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = DeadLetterQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(
                fields=["last_failed_at"], name="deadletter_waiting", condition=Q(resolved_at=None)
            )
        ]

    def __str__(self) -> str:
        return f"{self.transaction_id}: {self.error[:60]}"

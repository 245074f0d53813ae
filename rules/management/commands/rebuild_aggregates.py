"""``manage.py rebuild_aggregates [--partner SLUG] [--days N]``: refill Redis from PostgreSQL."""

from __future__ import annotations

import argparse
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rules.aggregates import aggregates_rebuild
from transactions.models import PartnerBank


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


class Command(BaseCommand):
    help = (
        "Rebuild the rolling aggregates in Redis from the stored transactions, e.g. after "
        "Redis lost its data. Scores computed while it runs see partial history."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--partner", metavar="SLUG", help="Only this partner bank.")
        parser.add_argument(
            "--days",
            type=_positive_int,
            metavar="N",
            help="Only transactions of the last N days (default: retention + 7 days: all kept).",
        )

    def handle(self, *args, partner: str | None, days: int | None, **options) -> None:
        partner_id = None
        if partner is not None:
            partner_id = (
                PartnerBank.objects.filter(slug=partner).values_list("pk", flat=True).first()
            )
            if partner_id is None:
                raise CommandError(f"Unknown partner {partner!r}: give the slug of a partner bank.")
        since = timezone.now() - timedelta(days=days) if days else None
        recorded = aggregates_rebuild(partner_id=partner_id, since=since)
        scope = f"partner {partner}" if partner else "all partners"
        self.stdout.write(f"Recorded {recorded} transactions in the rolling aggregates ({scope}).")

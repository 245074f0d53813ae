"""``manage.py monitor_report --partner P [--at MINUTE|latest] [--dimension D]``: print the
same JSON as ``GET /api/v1/monitor`` for a chosen minute."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from sentinel.monitoring.choices import Dimension
from sentinel.monitoring.report import monitor_report
from sentinel.monitoring.timing import MinuteError, resolve_minute
from transactions.models import PartnerBank


class Command(BaseCommand):
    help = "Print the operational monitor's JSON for a partner at a minute (default: the last)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--partner", required=True, help="The partner's slug.")
        parser.add_argument(
            "--at",
            default=None,
            help="ISO 8601 minute (UTC without an offset), or 'latest' for the partner's "
            "newest minute with traffic (replays); default: the last complete minute.",
        )
        parser.add_argument("--dimension", choices=Dimension.values, default=None)

    def handle(self, *args, partner: str, at: str | None, dimension: str | None, **_) -> None:
        target = PartnerBank.objects.filter(slug=partner).first()
        if target is None:
            raise CommandError(f"No partner with the slug {partner!r}.")
        try:
            minute = resolve_minute(at, partner_ids=[target.pk])
        except MinuteError as exc:
            raise CommandError(str(exc)) from exc
        document = monitor_report(partners=[target], at=minute, dimension=dimension)
        self.stdout.write(json.dumps(document, indent=2))

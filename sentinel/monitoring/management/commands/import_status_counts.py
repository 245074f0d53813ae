"""``manage.py import_status_counts FILE.csv --partner P [--map a=b ...]``: replay per-minute
counts of transactions by status (``timestamp,status,count``) as stored transactions.

Default mapping: the contract's statuses (approved, failed, denied, reversed) map to
themselves, as card payments. Any other status is refused unless mapped: ``--map
backend_reversed=reversed``, ``--map refunded=approved:refund`` (status:type) or ``--map
refunded=skip``. Timestamps without an offset are UTC. A bad row (unknown status,
unparseable timestamp, negative or non-numeric count) is reported with its line number and
nothing is imported.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from sentinel.monitoring.services.replay import (
    ReplayError,
    parse_counts,
    parse_mapping,
    transactions_replay,
)
from transactions.models import PartnerBank


class Command(BaseCommand):
    help = (
        "Load per-minute status counts (timestamp,status,count) as a partner's transactions. "
        "Statuses approved/failed/denied/reversed map to themselves; map others with "
        "--map SOURCE=STATUS[:TYPE] or --map SOURCE=skip. All or nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="CSV with the header timestamp,status,count.")
        parser.add_argument("--partner", required=True, help="The partner's slug.")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            dest="mappings",
            metavar="SOURCE=STATUS[:TYPE]",
            help="e.g. backend_reversed=reversed, refunded=approved:refund, refunded=skip.",
        )
        parser.add_argument("--currency", default="USD", help="Currency of the replayed rows.")

    def handle(self, *args, file: str, partner: str, mappings: list[str], currency: str, **_):
        target = PartnerBank.objects.filter(slug=partner).first()
        if target is None:
            raise CommandError(f"No partner with the slug {partner!r}.")
        try:
            with open(file, encoding="utf-8", newline="") as handle:
                text = handle.read()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        try:
            rows = parse_counts(text, parse_mapping(mappings))
        except ReplayError as exc:
            shown = "\n".join(f"  {error}" for error in exc.errors)
            more = exc.total - len(exc.errors)
            tail = f"\n  ... and {more} more" if more > 0 else ""
            raise CommandError(
                f"{exc.total} bad rows in {file}; nothing was imported:\n{shown}{tail}"
            ) from exc
        result = transactions_replay(partner=target, rows=rows, currency=currency.upper())
        if result.start is None:
            self.stdout.write("Nothing to import.")
            return
        self.stdout.write(
            f"Imported {result.created:,} new transactions ({result.transactions:,} counted in "
            f"{result.rows:,} rows; {result.transactions - result.created:,} already there) "
            f"for {target.slug}, {result.start:%Y-%m-%d %H:%M} to "
            f"{result.end:%Y-%m-%d %H:%M} UTC; minute aggregates rebuilt."
        )

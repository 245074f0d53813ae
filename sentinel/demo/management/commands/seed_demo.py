"""``manage.py seed_demo``: a realistic, reproducible population to explore Sentinel with.

The command only orchestrates: ``sentinel.demo.generator`` makes the payloads (pure, seeded)
and they are stored through ``transactions_accept``, the service behind the API, so the demo
data takes exactly the path a partner's data takes, profiling and scoring included.

It seeds the whole product, which is why the demo is an app above all the others: the planted
sanctioned names go on the sanctions list before any payment is scored (``rules``), each demo
partner gets a (made-up) goAML registration so its cases' reports export (``cases``), and the
planted typologies are recorded as ground-truth labels for ``detection_report``.

It refuses to run unless the settings allow demo data (``SENTINEL_ALLOW_DEMO``): made-up
partners, staff users with a printed password and fictional sanctions entries must never reach
a production database.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone

from cases.models import SarReportingEntity
from rules.models import RuleList, TypologyLabel
from rules.services import list_entries_import
from sentinel import roles
from sentinel.demo import generator as demo
from sentinel.demo.guard import refuse_unless_demo_allowed
from sentinel.pipeline.orchestrator import transactions_accept
from transactions.models import PartnerBank, Transaction
from transactions.services import api_key_create, partner_create

BATCH_SIZE = 1000  # the batch endpoint's limit: the demo ingests the way a partner would
# (username, group, superuser)
STAFF = (
    ("investigator", roles.INVESTIGATOR, False),
    ("senior", roles.SENIOR_INVESTIGATOR, False),
    ("compliance", roles.COMPLIANCE_OFFICER, False),
    ("admin", roles.ADMINISTRATOR, True),
)


@dataclass(frozen=True)
class SeededPartner:
    partner: PartnerBank
    created: bool
    key_id: str = ""
    secret: str = ""  # only when this run created the key: secrets are never readable later


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        number = int(value)
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return number

    return parse


class Command(BaseCommand):
    help = (
        "Seed three demo partner banks, their customers' transactions (with planted laundering "
        "typologies) and one staff user per role. Running it again with the same seed adds "
        "nothing: transactions are replayed as duplicates."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--seed", type=int, default=7, help="Same seed, same data.")
        parser.add_argument(
            "--customers",
            type=_at_least(demo.MIN_CUSTOMERS),
            default=300,
            metavar="N",
            help="Customers across the three partners (default 300).",
        )
        parser.add_argument(
            "--days",
            type=_at_least(1),
            default=30,
            metavar="N",
            help="Days of history, ending now (default 30).",
        )
        parser.add_argument(
            "--password",
            default="sentinel-demo",
            help="Password set on every demo staff user, on every run (default sentinel-demo).",
        )

    def handle(self, *args, seed: int, customers: int, days: int, password: str, **options) -> None:
        refuse_unless_demo_allowed("seed_demo")
        started = time.monotonic()
        previous_end = _previous_window_end(seed)
        end = previous_end or timezone.now()
        population = demo.generate(seed=seed, customers=customers, days=days, end=end)
        with transaction.atomic():
            partners = [_seed_partner(spec.name, spec.currency) for spec in demo.PARTNERS]
            _seed_staff(password)
            _seed_sanctions()
            _seed_sar_filers([seeded.partner for seeded in partners])
        self._report_window(population, days=days, replayed=previous_end is not None)
        # Before the long part: if ingest fails, the new keys' secrets are not lost with it.
        self._report_partners(partners)
        counts: Counter[str] = Counter()
        for seeded in partners:
            counts.update(_ingest(seeded.partner, population.payloads[seeded.partner.name]))
        self._report_counts(counts)
        labelled = _seed_labels(
            population, {seeded.partner.name: seeded.partner for seeded in partners}
        )
        self._report_typologies(population, labelled)
        self._report_staff(password)
        self.stdout.write(
            f"Done in {time.monotonic() - started:.1f} s. Transactions are profiled and scored "
            "as the Celery worker works through the queue; `manage.py detection_report` scores "
            "what is left and shows what the rules found."
        )

    def _report_window(self, population: demo.Population, *, days: int, replayed: bool) -> None:
        customers, end = len(population.customers), population.window_end
        total = sum(len(payloads) for payloads in population.payloads.values())
        self.stdout.write(
            f"Demo: {customers:,} customers, {total:,} transactions over {days} days up to "
            f"{end:%Y-%m-%d %H:%M} UTC."
        )
        if replayed:
            self.stdout.write(
                "  (the window of an earlier run of this seed; another --seed makes a fresh one)"
            )

    def _report_partners(self, partners: Sequence[SeededPartner]) -> None:
        self.stdout.write("Partners:")
        for seeded in partners:
            state = "created" if seeded.created else "already there"
            self.stdout.write(f"  {seeded.partner.name} ({seeded.partner.slug}): {state}")
            if seeded.secret:
                self.stdout.write(
                    f"    API key {seeded.key_id}  secret {seeded.secret}  (shown only now)"
                )

    def _report_counts(self, counts: Counter[str]) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {counts['created']:,} transactions, {counts['duplicate']:,} duplicates."
            )
        )
        if counts["conflict"]:
            self.stdout.write(
                self.style.WARNING(
                    f"{counts['conflict']:,} conflicts: an earlier run of this seed used other "
                    "--customers/--days and those transactions were kept; use another --seed."
                )
            )
        if counts["invalid"]:
            self.stdout.write(
                self.style.ERROR(f"{counts['invalid']:,} payloads broke the contract: a bug.")
            )

    def _report_typologies(self, population: demo.Population, labelled: int) -> None:
        self.stdout.write(
            f"Planted typologies (metadata.{demo.TYPOLOGY_KEY}; {labelled} new label"
            f"{pluralize(labelled)} for detection_report):"
        )
        accounts: Counter[str] = Counter()
        transactions: Counter[str] = Counter()
        for planted in population.typologies:
            accounts[planted.typology] += 1
            transactions[planted.typology] += planted.transactions
        for typology, count in accounts.items():
            self.stdout.write(
                f"  {typology:<22} {count:>3} account{pluralize(count)} "
                f"{transactions[typology]:>5} transaction{pluralize(transactions[typology])}"
            )

    def _report_staff(self, password: str) -> None:
        self.stdout.write(f'Staff logins at /login/ (password "{password}"):')
        for username, group, superuser in STAFF:
            role = f"{group}, superuser" if superuser else group
            self.stdout.write(f"  {username:<13} {role}")
        self.stdout.write(
            "  Every role but investigator sets up an authenticator app (TOTP) at its first "
            "login (docs/security.md)."
        )


def _previous_window_end(seed: int) -> datetime | None:
    """Where an earlier run of this seed ended its window: replaying it makes re-runs no-ops."""
    value = (
        Transaction.objects.filter(
            partner__name__in=[spec.name for spec in demo.PARTNERS],
            **{f"metadata__{demo.SEED_KEY}": seed},
        )
        .values_list(f"metadata__{demo.WINDOW_END_KEY}", flat=True)
        .first()
    )
    return datetime.fromisoformat(value) if value else None


def _seed_partner(name: str, currency: str) -> SeededPartner:
    """The demo partner, reporting in the currency its customers pay in."""
    partner = PartnerBank.objects.filter(name=name).first()
    created = partner is None
    if created:
        partner = partner_create(name=name, reporting_currency=currency)
    elif partner.api_keys.live().exists():
        return SeededPartner(partner=partner, created=False)
    api_key, secret = api_key_create(partner=partner, label="seed_demo")
    return SeededPartner(partner=partner, created=created, key_id=api_key.key_id, secret=secret)


def _seed_staff(password: str) -> None:
    """One staff user per role; the password is (re)set so the printed logins always work."""
    user_model = get_user_model()
    for username, group_name, superuser in STAFF:
        user, _ = user_model.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        user.is_staff, user.is_superuser = True, superuser
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get_or_create(name=group_name)[0])


def _seed_sanctions() -> None:
    """The sanctioned parties the demo pays, on the sanctions list the default pack installs."""
    sanctions = RuleList.objects.filter(name="sanctions").first()
    if sanctions is None:  # deleted by an administrator: the list-hit typology finds nothing
        return
    rows = [
        f'"{entry}",fictional party planted by seed_demo' for entry, _ in demo.SANCTIONED_PARTIES
    ]
    list_entries_import(rule_list=sanctions, csv_text="\n".join(rows))


def _seed_sar_filers(partners: Sequence[PartnerBank]) -> None:
    """A (made-up) goAML registration per demo partner, so their cases' reports can be exported."""
    for number, partner in enumerate(partners, start=1):
        SarReportingEntity.objects.get_or_create(
            partner=partner,
            defaults={"rentity_id": 9000 + number, "country": "US", "city": "Demo City"},
        )


def _seed_labels(population: demo.Population, partners: dict[str, PartnerBank]) -> int:
    """Record every planted typology as a label (idempotent); how many labels are new."""
    labels = [
        TypologyLabel(
            partner=partners[planted.partner],
            account_external_id=planted.account_id,
            typology=planted.typology,
            source="seed_demo",
        )
        for planted in population.typologies
    ]
    before = TypologyLabel.objects.count()
    TypologyLabel.objects.bulk_create(labels, ignore_conflicts=True)
    return TypologyLabel.objects.count() - before


def _ingest(partner: PartnerBank, payloads: list[dict]) -> Counter[str]:
    """Store payloads in batches, as a partner would; returns how many ended in each status."""
    counts: Counter[str] = Counter()
    for offset in range(0, len(payloads), BATCH_SIZE):
        results = transactions_accept(
            partner=partner, payloads=payloads[offset : offset + BATCH_SIZE]
        )
        counts.update(result.status for result in results)
    return counts

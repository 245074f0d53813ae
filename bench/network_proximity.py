"""Proximity to known-bad accounts on the AMLSim replay: what the recompute costs, what the
``network`` provider's extra read costs per transaction, and what ``network_near_flagged`` adds
in one stated scenario.

``python -m bench.network_proximity`` with DATABASE_URL / REDIS_URL set to a database where
``manage.py detection_report --dataset amlsim`` replayed the sample with network analytics on
(SENTINEL_NETWORK_ANALYTICS=1). It writes to that database (labels, proximity): use a
database kept for benchmarks. Not a phase of ``make bench``; docs/network.md § Proximity holds
the figures it printed.

The scenario: an investigator confirms the laundering accounts the product already alerted
on (the true positives among them), fed back as the partner's confirmed fraud on a transfer
each received; proximity is recomputed from those seeds, and the rule is evaluated, as a
back-test does, over the transfers of the graph's window with proximity as it is now. It says
what the rule adds around known-bad accounts, not how the product finds them unaided.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from pathlib import Path
from unittest import mock

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from rules import engine  # noqa: E402
from rules.expressions import EvaluationContext  # noqa: E402
from rules.features import FeatureBatch  # noqa: E402
from rules.models import Rule  # noqa: E402
from sentinel.network import features as network_features  # noqa: E402
from sentinel.network.choices import SeedReason  # noqa: E402
from sentinel.network.models import AccountProximity  # noqa: E402
from sentinel.network.proximity import Seed, proximity_fields, proximity_keys  # noqa: E402
from sentinel.network.selectors import proximity_of  # noqa: E402
from sentinel.network.services import account_proximity_store  # noqa: E402
from sentinel.pipeline import datasets  # noqa: E402
from sentinel.pipeline.proximity import proximity_refresh  # noqa: E402
from sentinel.pipeline.rings import RULE_FOR_PATTERN  # noqa: E402
from transactions.choices import LabelOutcome, LabelSource, LabelWeight  # noqa: E402
from transactions.models import Transaction  # noqa: E402
from transactions.services import transaction_labels_record  # noqa: E402

BATCH = 500
RING_RULES = set(RULE_FOR_PATTERN.values())
DATA = Path(settings.BASE_DIR).parent / "shared" / "data" / "amlsim"


def alerted(data: datasets.AmlSim, partner, *, rings: bool) -> set[str]:
    """Accounts a live rule hit: the per-transaction rules only (docs/detection.md's AMLSim
    table), or with the window scan's rings."""
    codes = {
        external_id: codes - ({"network_near_flagged"} | (set() if rings else RING_RULES))
        for external_id, codes in datasets.live_hits(partner).items()
    }
    return {data.customer_of(external_id) for external_id, left in codes.items() if left}


def scenario_seeds(data: datasets.AmlSim, partner) -> set[str]:
    """Label, as the partner's confirmed fraud, one transfer received by each laundering
    account the per-transaction rules alerted on; those accounts."""
    confirmed = alerted(data, partner, rings=False) & data.laundering
    received = dict(
        Transaction.objects.filter(
            partner=partner, direction="inbound", beneficiary_account_id__in=confirmed
        ).values_list("beneficiary_account_id", "pk")
    )
    transaction_labels_record(
        transaction_ids=received.values(),
        source=LabelSource.PARTNER_FEEDBACK,
        outcome=LabelOutcome.CONFIRMED_FRAUD,
        weight=LabelWeight.PARTNER_FEEDBACK,
        reason="bench: a true positive confirmed",
        actor=None,
        reference="bench.network_proximity",
    )
    return set(received)


def recompute(partner) -> None:
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        written = proximity_refresh(partner_id=partner.pk)
        timings.append(time.perf_counter() - started)
    by_hops = defaultdict(int)
    for hops in AccountProximity.objects.filter(partner=partner).values_list("hops", flat=True):
        by_hops[hops] += 1
    print(
        f"full recompute: {statistics.median(timings):.2f} s (median of 3), {written:,} accounts "
        f"within the bound: " + ", ".join(f"{n:,} at {h}" for h, n in sorted(by_hops.items()))
    )
    outside = (
        Transaction.objects.filter(partner=partner)
        .exclude(
            beneficiary_account_id__in=AccountProximity.objects.filter(partner=partner).values(
                "account"
            )
        )
        .values_list("beneficiary_account_id", flat=True)
        .first()
    )
    started = time.perf_counter()
    changed = account_proximity_store(
        partner_id=partner.pk, seeds=[Seed(outside, SeedReason.LIST, "bench")], extend=True
    )
    print(f"incremental, one new seed: {time.perf_counter() - started:.3f} s, {changed} changed")
    proximity_refresh(partner_id=partner.pk)  # back to the scenario's seeds


def window_transactions(partner) -> list[Transaction]:
    since = timezone.now() - timezone.timedelta(days=settings.SENTINEL_NETWORK_RETENTION_DAYS)
    return list(
        Transaction.objects.filter(partner=partner, occurred_at__gte=since).order_by("occurred_at")
    )


def read_cost(txs: list[Transaction]) -> None:
    """The provider's values with and without the proximity read, alternated over batches."""
    provider = network_features.NetworkFeatures()
    batches = [txs[i : i + BATCH] for i in range(0, len(txs), BATCH)][:20]
    spent = {"with": [0.0, 0.0], "without": [0.0, 0.0], "read alone": [0.0, 0.0]}
    nothing = mock.patch.object(network_features, "proximity_of", lambda accounts: {})
    for index, batch in enumerate(batches):
        features_batch = FeatureBatch(transactions=batch, profiles={})
        for name in ("with", "without") if index % 2 else ("without", "with"):
            started_cpu, started = time.process_time(), time.perf_counter()
            if name == "without":
                with nothing:
                    provider.values(features_batch)
            else:
                provider.values(features_batch)
            spent[name][0] += time.process_time() - started_cpu
            spent[name][1] += time.perf_counter() - started
        started_cpu, started = time.process_time(), time.perf_counter()
        found = proximity_of(accounts=proximity_keys(batch))
        for tx in batch:
            proximity_fields(tx, found)
        spent["read alone"][0] += time.process_time() - started_cpu
        spent["read alone"][1] += time.perf_counter() - started
    count = sum(map(len, batches))
    print(f"network provider, {count:,} transactions in batches of {BATCH}:")
    for name, (cpu, wall) in spent.items():
        print(
            f"  {name:<11} {cpu / count * 1e6:7.1f} µs CPU, {wall / count * 1e6:7.1f} µs wall / tx"
        )


def rule_scenario(data: datasets.AmlSim, partner, seeds: set[str], txs: list[Transaction]) -> None:
    rule = Rule.objects.select_related("version").get(code="network_near_flagged")
    running = engine.running_rule(rule.version, code=rule.code, shadow=False)
    ruleset = engine.RuleSet(
        rules=(running,), lists=engine.load_lists(set()), review_score=10**9, block_score=10**9
    )
    provider = network_features.NetworkFeatures()
    hit: set[str] = set()
    for start in range(0, len(txs), BATCH):
        batch = txs[start : start + BATCH]
        values = provider.values(FeatureBatch(transactions=batch, profiles={}))
        for tx, provided in zip(batch, values, strict=True):
            context = EvaluationContext(
                fields={**engine.transaction_fields(tx), **provided}, aggregates={}, lists=None
            )
            if engine.evaluate_one(tx, ruleset=ruleset, context=context).hits:
                hit.add(data.customer_of(tx.external_id))
    laundering, normal = data.laundering, data.accounts - data.laundering
    print(
        "scenario (seeds: the laundering accounts the per-transaction rules alerted on, "
        "confirmed by feedback; the rule over the last "
        f"{settings.SENTINEL_NETWORK_RETENTION_DAYS} days with today's proximity):"
    )
    print(f"  seeds: {len(seeds):,}; accounts the rule hits: {len(hit):,}")
    for rings in (False, True):
        before = alerted(data, partner, rings=rings)
        print(f"  baseline: per-transaction rules{' and ring rules' if rings else ''}")
        for label, group in (("laundering", laundering), ("normal", normal)):
            was, now = before & group, (before | hit) & group
            print(
                f"    {label:<10} accounts alerted: {len(was):,} of {len(group):,} "
                f"({len(was) / len(group):.1%}) -> with the rule {len(now):,} "
                f"({len(now) / len(group):.1%}); newly hit {len((hit - before) & group):,}"
            )


def main() -> None:
    from transactions.models import PartnerBank

    partner = PartnerBank.objects.get(name=datasets.AMLSIM_PARTNER)
    data = datasets.AmlSim.load(DATA)
    seeds = scenario_seeds(data, partner)
    recompute(partner)
    txs = window_transactions(partner)
    read_cost(txs)
    rule_scenario(data, partner, seeds, txs)


if __name__ == "__main__":
    main()

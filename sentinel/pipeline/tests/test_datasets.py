"""The external benchmarks' replay (detection_report --dataset) on slices of the shipped
files, through the real ingest and pipeline."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from rules.tests.factories import network_rules_live
from sentinel.network.models import NetworkPattern
from sentinel.network.runtime import in_force
from sentinel.network.tests.graph import send, transfer
from sentinel.pipeline import datasets
from transactions.models import ExchangeRate
from transactions.tests.factories import PartnerBankFactory


@pytest.fixture
def ibm(shared_data) -> datasets.IbmPatterns:
    return datasets.IbmPatterns.load(shared_data / "ibm_aml_patterns")


def _attempts(data: datasets.IbmPatterns, *attempts: str) -> datasets.IbmPatterns:
    return datasets.IbmPatterns(rows=[row for row in data.rows if row.attempt in attempts])


@pytest.mark.django_db
def test_an_ibm_cycle_attempt_replayed_from_both_sides_is_detected_by_the_cycle_rule(ibm):
    network_rules_live()
    cycles = [row.attempt for row in ibm.rows if row.typology == "CYCLE"]
    cycle = next(attempt for attempt in cycles if cycles.count(attempt) >= 4)  # 4 hops or more
    data = _attempts(ibm, cycle)
    partner, existed = datasets.dataset_partner(datasets.IBM_PARTNER)

    replayed = datasets.replay(partner, data.days())
    figures = datasets.ibm_figures(data, partner)

    assert not existed
    assert dict(replayed.statuses) == {"created": 2 * len(data.rows)}
    assert [(row.label, row.total, row.found) for row in figures.rows] == [
        ("CYCLE", 1, 1),
        ("all attempts", 1, 1),
        ("normal rows, hit", 0, 0),
    ]
    assert figures.by_rule["network_cycle"] == (1, 0)


@pytest.mark.django_db
def test_an_ibm_scatter_gather_attempt_is_found_by_the_window_scan_day_by_day(ibm):
    network_rules_live()
    shapes = [row.attempt for row in ibm.rows if row.typology == "SCATTER-GATHER"]
    largest = max(set(shapes), key=shapes.count)
    data = _attempts(ibm, largest)
    partner, _ = datasets.dataset_partner(datasets.IBM_PARTNER)
    datasets.replay(partner, data.days())

    alerted = datasets.rings_scan(partner.pk, datasets.benchmark_window(partner.pk))
    figures = datasets.ibm_figures(data, partner)

    # Which simpler shape shows first (the source's fan-out, the sink's fan-in) depends on
    # where the day boundaries fall; whole, it is a scatter-gather. One alert per ring.
    rings = NetworkPattern.objects.filter(partner=partner)
    assert "scatter_gather" in {ring.kind for ring in rings}
    assert alerted == rings.count()
    assert [(row.label, row.total, row.found) for row in figures.rows] == [
        ("SCATTER-GATHER", 1, 1),
        ("all attempts", 1, 1),
        ("normal rows, hit", 0, 0),
    ]
    assert figures.by_rule["network_scatter_gather"] == (1, 0)
    assert datasets.rings_scan(partner.pk, datasets.benchmark_window(partner.pk)) == 0  # known


@pytest.mark.django_db
def test_amlsim_payloads_are_valid_contract_transactions_on_both_sides(shared_data):
    data = datasets.AmlSim.load(shared_data / "amlsim")
    first_day = next(data.days())
    partner, _ = datasets.dataset_partner(datasets.AMLSIM_PARTNER)

    replayed = datasets.replay(partner, iter([first_day]))

    assert dict(replayed.statuses) == {"created": len(first_day)}
    assert replayed.processed == len(first_day) > 0
    assert len(data.laundering) == 1804 and len(data.accounts) == 20_000
    sender, receiver, *_ = data.transfers[0]
    assert (data.customer_of("aml-0-out"), data.customer_of("aml-0-inb")) == (sender, receiver)


@pytest.mark.django_db
def test_a_replayed_file_waives_the_scans_history_only_when_it_is_too_short_to_hold_it():
    partner = PartnerBankFactory()
    send(partner, transfer("H1", "H2", "5000.00", hours=0))
    send(partner, transfer("H2", "H3", "4900.00", hours=24 * 18))
    assert datasets.benchmark_window(partner.pk).history == timedelta(0)  # 18 days: IBM-like

    send(partner, transfer("H3", "H4", "4800.00", hours=-24 * 30))
    window = datasets.benchmark_window(partner.pk)  # 48 days: AMLSim-like, scanned as in production
    assert window.history == in_force().window.history > timedelta(0)
    assert window.version_id is None


@pytest.mark.django_db
def test_the_ibm_replay_enters_its_reference_rates_only_into_a_database_without_rates(ibm):
    data = _attempts(ibm, next(row.attempt for row in ibm.rows if row.typology == "CYCLE"))
    days = sorted({(row.at + data._shift()).date() for row in data.rows})

    entered = data.rates_enter()

    stored = ExchangeRate.objects.filter(base="EUR", quote="USD")
    assert entered == len(days) * len(datasets.REFERENCE_RATES)
    assert sorted(stored.values_list("date", flat=True)) == days
    assert set(stored.values_list("rate", flat=True)) == {Decimal("1.1765")}
    assert data.rates_enter() == 0  # a second replay adds nothing


@pytest.mark.django_db
def test_real_rates_near_the_replayed_days_keep_the_reference_rates_out(ibm):
    data = _attempts(ibm, next(row.attempt for row in ibm.rows if row.typology == "CYCLE"))
    first = min((row.at + data._shift()).date() for row in data.rows)
    ExchangeRate.objects.create(
        date=first - timedelta(days=2), base="EUR", quote="USD", rate=Decimal("1.0812")
    )

    assert data.rates_enter() == 0
    assert ExchangeRate.objects.count() == 1

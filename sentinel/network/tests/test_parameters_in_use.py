"""The version in force is what the detectors run with, through the real pipeline and the
window scan, and every finding and ring names it."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from rules.features.base import FeatureBatch
from rules.models import RuleHit
from sentinel import generations
from sentinel.network import runtime
from sentinel.network.choices import PatternKind
from sentinel.network.features import NetworkFeatures
from sentinel.network.models import NetworkFinding, ParametersInForce
from sentinel.network.services import network_patterns_scan
from sentinel.network.tests.factories import parameter_version, parameters_in_force
from sentinel.network.tests.graph import send, transfer
from sentinel.network.tests.test_window import DAY, START, into, load
from sentinel.redis import get_redis, redis_key
from transactions.models import Transaction


def _three_day_cycle(partner, a: str, b: str, c: str, *, hours: float) -> list:
    """a → b → c → a over three days; the amounts shrink too much to be carried and each hop
    waits over a day, so only the round-trip search can find it."""
    return send(
        partner,
        transfer(a, b, "9000.00", hours=hours),
        transfer(b, c, "8000.00", hours=hours + 30),
        transfer(c, a, "7000.00", hours=hours + 72),
    )


def test_a_three_day_cycle_is_found_only_once_a_seven_day_round_trip_is_in_force(partner):
    # Given officers who put a round-trip window of 2 days in force (and the value loop's
    # window too: 9,000 to 7,000 is within its 25 %, so it would find the cycle in any order)
    short = parameters_in_force(round_trip_days=2, loop_days=2)

    # When a three-day cycle is sent: no finding, no hit
    missed = _three_day_cycle(partner, "A", "B", "C", hours=0)
    assert not NetworkFinding.objects.filter(transaction_id__in=missed).exists()
    assert not RuleHit.objects.filter(decision_id=missed[2]).exists()

    # When they approve 7 days, the same shape is found, and the finding names the version
    week = parameters_in_force(round_trip_days=7)
    found = _three_day_cycle(partner, "D", "E", "F", hours=100)
    finding = NetworkFinding.objects.get(transaction_id=found[2])
    assert (finding.cycle_length, finding.parameters) == (3, week)
    assert RuleHit.objects.filter(decision_id=found[2], rule__code="network_cycle").exists()
    assert short.number < week.number


def test_fewer_hops_in_force_leave_a_longer_cycle_out(partner):
    parameters_in_force(max_hops=2)

    ids = _three_day_cycle(partner, "A", "B", "C", hours=0)

    assert not NetworkFinding.objects.filter(transaction_id__in=ids).exists()


def test_the_counterparty_window_in_force_is_what_fan_in_counts_over(partner):
    ids = send(
        partner,
        transfer("P1", "HUB", "100.00", hours=0),
        transfer("P2", "HUB", "100.00", hours=24 * 3),
        transfer("HUB", "X", "100.00", hours=24 * 4),
    )
    last = Transaction.objects.filter(pk=ids[2])

    def fan_in() -> int:
        (values,) = NetworkFeatures().values(FeatureBatch(transactions=list(last), profiles={}))
        return int(values["network.fan_in_accounts"])

    assert fan_in() == 2  # 7 days, as installed
    parameters_in_force(counterparty_days=2)
    assert fan_in() == 1


def test_the_window_scan_runs_with_the_version_in_force_and_its_rings_name_it(partner):
    # Given four new payers into one account (a fan needs five as installed)
    load(partner, *(into(f"P{i}", "HUB", 50 * DAY + i, "1000.00") for i in range(4)))
    until = START + timedelta(hours=55 * DAY)
    parameters_in_force(history_days=0)
    assert network_patterns_scan(partner_id=partner.pk, until=until) == []

    # When officers put a fan of four in force, the scan finds it and the ring names the version
    four = parameters_in_force(history_days=0, fan_min=4)
    (ring,) = network_patterns_scan(partner_id=partner.pk, until=until)

    assert (ring.kind, ring.hub, ring.parameters) == (PatternKind.FAN_IN, "HUB", four)


def test_the_parameters_are_read_once_per_process_not_per_batch(partner):
    # Given this process has loaded the version in force
    runtime.in_force()

    # When batches are scored, no query reads the parameters
    with CaptureQueriesContext(connection) as queries:
        send(partner, transfer("A", "B", "9000.00", hours=0), transfer("B", "C", "90", hours=1))
    assert not [q for q in queries.captured_queries if "network_parameter" in q["sql"]]


def test_another_process_putting_a_version_in_force_is_seen_when_the_generation_moves(
    monkeypatch,
):
    # Given this process looking at the generation on every read
    monkeypatch.setattr(generations, "CHECK_SECONDS", 0)
    assert runtime.in_force().number == 1

    # When the row moves but the generation does not, this process keeps what it has
    row = ParametersInForce.objects.get(pk=1)
    row.version = parameter_version(max_hops=5)
    row.save()
    assert runtime.in_force().number == 1

    # and once another process's approval moved the generation, it reloads
    get_redis().incr(redis_key("network_parameters", "generation"))
    assert (runtime.in_force().number, runtime.in_force().searches.max_hops) == (2, 5)


def test_with_no_version_in_the_database_the_code_defaults_run():
    ParametersInForce.objects.all().delete()

    loaded = runtime.in_force()

    assert (loaded.number, loaded.searches.version_id, loaded.window.fan_min) == (None, None, 5)

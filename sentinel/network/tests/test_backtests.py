"""Back-testing a parameter version in the admin: hand-built transfers through the real
pipeline, then the version replayed beside the one in force, with nothing written that the
live system reads."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rules.models import Decision, RuleHit
from rules.tests.factories import investigator, officer
from sentinel.audit.models import AuditEvent
from sentinel.network import backtests, governance, runtime, selectors
from sentinel.network.choices import BacktestState
from sentinel.network.models import (
    AccountProximity,
    NetworkFinding,
    NetworkPattern,
    ParameterBacktest,
    ParametersInForce,
    Transfer,
)
from sentinel.network.tests.factories import parameter_version, parameters_in_force
from sentinel.network.tests.graph import START, send, transfer
from sentinel.network.tests.test_window import DAY, into, load
from sentinel.network.tests.test_window import START as WINDOW_START

VERSIONS = "/admin/network/parameterversion/"


def _period(after_hours: float = -24, before_hours: float = 24 * 20) -> dict[str, str]:
    return {
        "occurred_after": (START + timedelta(hours=after_hours)).strftime("%Y-%m-%d %H:%M"),
        "occurred_before": (START + timedelta(hours=before_hours)).strftime("%Y-%m-%d %H:%M"),
    }


def _slow_cycle(partner) -> list:
    """A → B → C → A over 9 days, the amounts shrinking: outside the installed 7-day round
    trip, not carried (the amounts change), no value loop (they lie 67 % apart)."""
    return send(
        partner,
        transfer("A", "B", "9000.00", hours=0),
        transfer("B", "C", "6000.00", hours=24 * 4),
        transfer("C", "A", "3000.00", hours=24 * 9),
    )


def _row(backtest: ParameterBacktest, kind: str) -> dict:
    return next(row for row in backtest.result["kinds"] if row["kind"] == kind)


def _live_rows() -> dict[str, int]:
    return {
        "transfers": Transfer.objects.count(),
        "findings": NetworkFinding.objects.count(),
        "patterns": NetworkPattern.objects.count(),
        "proximity": AccountProximity.objects.count(),
        "decisions": Decision.objects.count(),
        "hits": RuleHit.objects.count(),
    }


_WRITE = re.compile(r"^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+\"?(\w+)", re.I | re.M)


def test_a_draft_with_a_wider_round_trip_finds_the_slow_cycle_the_version_in_force_misses(
    client, partner, django_capture_on_commit_callbacks
):
    # Given a nine-day cycle the version in force (7-day round trips) does not find
    ids = _slow_cycle(partner)
    assert not NetworkFinding.objects.filter(cycle_length__gt=0).exists()
    draft = parameter_version(round_trip_days=14, comment="Slower round trips")
    olga = officer("olga")
    client.force_login(olga)
    before = _live_rows()

    # When an officer opens the draft, follows its back-test link and starts one (the task
    # runs once the request commits, as Celery would)
    page = client.get(f"{VERSIONS}{draft.pk}/change/").content.decode()
    assert f"{VERSIONS}{draft.pk}/backtest/" in page
    assert client.get(f"{VERSIONS}{draft.pk}/backtest/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{VERSIONS}{draft.pk}/backtest/", {"partner": partner.pk, **_period()}
        )
    backtest = ParameterBacktest.objects.get()
    assert response.url == f"{VERSIONS}backtest/{backtest.pk}/"

    # Then it is done: the draft finds the cycle through its closing transfer, v1 does not
    backtest.refresh_from_db()
    # 3 transfers searched from, and 21 days scanned every 5 (half the window) for each side
    assert (backtest.state, backtest.processed, backtest.total) == ("done", 13, 13)
    assert backtest.result["scans"] == {"2": 5, "1": 5}
    assert (backtest.version, backtest.baseline.number, backtest.requested_by) == (draft, 1, olga)
    cycle = _row(backtest, "cycle")
    assert (cycle["version"], cycle["baseline"], cycle["new"], cycle["lost"]) == (1, 0, 1, 0)
    (sample,) = cycle["new_samples"]
    assert sample["through"]["id"] == str(ids[2])
    assert {m["id"] for m in sample["members"]} == {"A", "B", "C"}
    assert set(sample["transactions"][i]["id"] for i in range(3)) == {str(i) for i in ids}
    assert backtest.result["accounts"] == {"version": 3, "baseline": 0, "new": 3, "lost": 0}
    assert backtest.result["transactions"]["new"] == 3

    # And its page shows the counts side by side, linking the transactions and accounts
    detail = client.get(response.url).content.decode()
    assert "v2 beside v1" in detail
    assert "<td>Cycle (round trip or amount carried back)</td><td>1</td><td>0</td>" in detail
    assert f"/admin/transactions/transaction/{ids[2]}/change/" in detail
    assert f'href="/accounts/{partner.pk}/A/"' in detail
    assert f"in {backtest.seconds} s" in detail
    assert _live_rows() == before  # nothing the live system reads was written


def test_a_stricter_draft_loses_a_finding_the_version_in_force_has(partner):
    # Given a three-day round trip, which the version in force finds
    ids = send(
        partner,
        transfer("A", "B", "9000.00", hours=0),
        transfer("B", "C", "8000.00", hours=30),
        transfer("C", "A", "7000.00", hours=72),
    )
    assert NetworkFinding.objects.get(transaction_id=ids[2]).cycle_length == 3
    strict = parameter_version(round_trip_days=2, loop_days=2)

    # When the stricter draft is back-tested
    backtest = governance.parameter_backtest_request(
        version=strict,
        partner=partner,
        occurred_after=START - timedelta(days=1),
        occurred_before=START + timedelta(days=10),
        actor=officer(),
    )
    backtest = backtests.parameter_backtest_run(backtest_id=backtest.pk)

    # Then the cycle is no longer found, through the transfer that closed it
    cycle = _row(backtest, "cycle")
    assert (cycle["version"], cycle["baseline"], cycle["new"], cycle["lost"]) == (0, 1, 0, 1)
    assert cycle["lost_samples"][0]["through"]["id"] == str(ids[2])
    assert backtest.result["accounts"]["lost"] == 3
    assert NetworkFinding.objects.get(transaction_id=ids[2]).cycle_length == 3  # untouched


def test_the_run_writes_only_its_own_row_and_the_scan_s_temporary_tables(partner):
    # Given a cycle the version in force finds, and a draft that would find more
    send(
        partner,
        transfer("A", "B", "5000.00", hours=0),
        transfer("B", "C", "4900.00", hours=5),
        transfer("C", "A", "4800.00", hours=10),
    )
    _slow_cycle(partner)
    findings = list(NetworkFinding.objects.values())
    before = _live_rows()
    backtest = governance.parameter_backtest_request(
        version=parameter_version(round_trip_days=14, fan_min=2, history_days=0),
        partner=partner,
        occurred_after=START - timedelta(days=1),
        occurred_before=START + timedelta(days=12),
        actor=officer(),
    )

    # When it runs
    with CaptureQueriesContext(connection) as queries:
        backtests.parameter_backtest_run(backtest_id=backtest.pk)

    # Then every statement that wrote touched the back-test's row or the scan's temp tables
    written = {table for q in queries.captured_queries for _, table in _WRITE.findall(q["sql"])}
    assert written
    assert written <= {"network_parameterbacktest", "network_window_pair"}
    assert _live_rows() == before
    assert list(NetworkFinding.objects.values()) == findings


def test_a_draft_with_a_smaller_fan_finds_a_ring_of_the_window_scan(client, partner):
    # Given four new payers into one account: no fan for the version in force (five)
    parameters_in_force(history_days=0)
    load(partner, *(into(f"P{i}", "HUB", 50 * DAY + i, "1000.00") for i in range(4)))
    draft = parameter_version(history_days=0, fan_min=4)

    # When the draft is back-tested over the days around them
    backtest = governance.parameter_backtest_request(
        version=draft,
        partner=partner,
        occurred_after=WINDOW_START + timedelta(days=45),
        occurred_before=WINDOW_START + timedelta(days=55),
        actor=officer(),
    )
    backtest = backtests.parameter_backtest_run(backtest_id=backtest.pk)

    # Then the fan-in is new, named once however many scans met it
    fan = _row(backtest, "fan_in")
    assert (fan["version"], fan["baseline"], fan["new"]) == (1, 0, 1)
    assert fan["new_samples"][0]["hub"] == "HUB"
    client.force_login(officer("olga"))
    page = client.get(f"{VERSIONS}backtest/{backtest.pk}/").content.decode()
    assert f'href="/accounts/{partner.pk}/HUB/"' in page
    assert backtest.result["scans"] == {"3": 2, "2": 2}  # every half window over 10 days
    assert not NetworkPattern.objects.exists()


def test_the_version_in_force_back_tested_is_the_same_on_both_sides(partner):
    _slow_cycle(partner)
    in_force = ParametersInForce.objects.get(pk=1).version

    backtest = governance.parameter_backtest_request(
        version=in_force,
        partner=partner,
        occurred_after=START - timedelta(days=1),
        occurred_before=START + timedelta(days=12),
        actor=officer(),
    )
    backtest = backtests.parameter_backtest_run(backtest_id=backtest.pk)

    assert backtest.state == BacktestState.DONE
    assert all(row["new"] == row["lost"] == 0 for row in backtest.result["kinds"])
    assert backtest.result["scans"] == {"1": 3}  # 13 days every 5: replayed once, not twice


def test_the_searches_replayed_find_what_the_scoring_path_stored(partner):
    """Each stored transfer is searched in the graph as it stood when it arrived, so the
    version in force finds again what the pipeline stored, not what later transfers add."""
    send(
        partner,
        transfer("P", "Q", "4321.17", hours=0),
        transfer("Q", "R", "4300.05", hours=30),
        transfer("R", "S", "4290.40", hours=60),
        transfer("S", "P", "4280.00", hours=90),
    )
    edges = selectors.transfers_between(
        partner_id=partner.pk, after=START - timedelta(days=1), before=START + timedelta(days=5)
    )

    replayed = backtests.searches_replayed(list(edges), runtime.in_force().searches)

    stored = NetworkFinding.objects.filter(partner=partner).values_list("transaction_id", flat=True)
    assert {found.through for found in replayed} == set(stored)
    assert len(set(stored)) == 3  # at the second, third and fourth hop


@pytest.mark.parametrize(
    ("period", "message"),
    [
        (_period(24 * 5, 24), "The end of the period must come after its start."),
        (_period(0, 24 * 50), "days: the graph keeps no more (SENTINEL_NETWORK_RETENTION_DAYS)"),
        (_period(24 * 12, 24 * 14), "has no transfers in the graph from"),
    ],
)
def test_bad_periods_are_refused_saying_why_and_change_nothing(client, partner, period, message):
    _slow_cycle(partner)
    draft = parameter_version(round_trip_days=14)
    client.force_login(officer("olga"))

    response = client.post(f"{VERSIONS}{draft.pk}/backtest/", {"partner": partner.pk, **period})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ParameterBacktest.objects.exists()
    assert not AuditEvent.objects.filter(model="network.parameterbacktest").exists()


def test_an_unknown_partner_is_refused(client, partner):
    draft = parameter_version(round_trip_days=14)
    client.force_login(officer("olga"))

    response = client.post(
        f"{VERSIONS}{draft.pk}/backtest/", {"partner": partner.pk + 1000, **_period()}
    )

    assert response.status_code == 400
    assert "No such partner." in response.content.decode()
    assert not ParameterBacktest.objects.exists()


def test_only_staff_with_the_parameter_permission_start_one_and_the_trail_names_who(
    client, partner
):
    _slow_cycle(partner)
    draft = parameter_version(round_trip_days=14)

    # An investigator sees the versions but may not back-test (the page offers no link)
    client.force_login(investigator("ivan"))
    page = client.get(f"{VERSIONS}{draft.pk}/change/").content.decode()
    assert "Back-test this version" not in page
    refused = client.post(f"{VERSIONS}{draft.pk}/backtest/", {"partner": partner.pk, **_period()})
    assert refused.status_code == 403
    with pytest.raises(PermissionDenied, match="Only compliance officers back-test"):
        governance.parameter_backtest_request(
            version=draft,
            partner=partner,
            occurred_after=START,
            occurred_before=START + timedelta(days=10),
            actor=investigator("ivy"),
        )
    assert not ParameterBacktest.objects.exists()

    # An officer may, and the audit trail names her request (not the task's progress)
    client.force_login(officer("olga"))
    client.post(f"{VERSIONS}{draft.pk}/backtest/", {"partner": partner.pk, **_period()})
    backtest = ParameterBacktest.objects.get()
    backtests.parameter_backtest_run(backtest_id=backtest.pk)
    trail = [
        (event.action, event.actor_username, event.object_id)
        for event in AuditEvent.objects.filter(model="network.parameterbacktest")
    ]
    assert trail == [("insert", "olga", str(backtest.pk))]

    # Staff without the network permissions see no back-test page
    client.force_login(_staff_without_permissions())
    assert client.get(f"{VERSIONS}backtest/{backtest.pk}/").status_code == 403


def _staff_without_permissions() -> User:
    return User.objects.create_user("sam", password="pw", is_staff=True)

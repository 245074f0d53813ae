"""Parameter versions: what a version may hold, the installed one, and what runs."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection
from django.db import transaction as db_transaction

from rules.tests.factories import investigator, officer
from sentinel.history import AppendOnlyError
from sentinel.network import governance, runtime
from sentinel.network.detectors import Parameters
from sentinel.network.models import ParametersInForce, ParameterVersion
from sentinel.network.proximity import ProximityParameters
from sentinel.network.tests.factories import parameter_values, parameter_version
from sentinel.network.window import WindowParameters

pytestmark = pytest.mark.django_db


def _refused(**overrides) -> dict[str, list[str]]:
    count = ParameterVersion.objects.count()
    with pytest.raises(ValidationError) as refused:
        parameter_version(**overrides)
    assert ParameterVersion.objects.count() == count  # nothing saved
    return refused.value.message_dict


def test_the_installed_version_is_in_force_and_holds_the_code_defaults():
    # Given a database as migrations leave it
    row = ParametersInForce.objects.select_related("version").get(pk=1)

    # Then version 1, installed with no author, is in force, and runs as the code ran before
    assert (row.version.number, row.version.author, row.change) == (1, None, None)
    loaded = runtime.in_force()
    assert loaded.number == 1
    assert loaded.searches == replace(Parameters(), version_id=row.version_id)
    assert loaded.window == replace(WindowParameters(), version_id=row.version_id)
    assert loaded.proximity == ProximityParameters()  # 3 hops, hubs at 50 counterparties


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_hops", 1, "At least 2: each hop more costs every batch one query per direction."),
        ("max_hops", 17, "At most 16: each hop more costs every batch one query per direction."),
        ("walk_nodes", 1000, "At most 256"),
        ("fee_tolerance_percent", Decimal("25"), "At most 20: fees above a fifth"),
        ("forward_share_percent", Decimal("40"), "At least 50: forwarding less than half"),
        ("forward_hours", 0, "At least 1"),
        ("forward_most_percent", Decimal("99"), "At least 100: paying on twice"),
        ("fan_min", 1, "At least 2: one counterparty is no fan."),
        ("bipartite_density_percent", 101, "At most 100"),
        ("ring_amount_min", Decimal("-1"), "At least 0"),
        ("round_sum_multiple", 5, "0 (every sum followed) or 10 and more"),
        ("everyday_sum_below", 1_000_001, "At most 1,000,000: 0 turns the exclusion off."),
        ("loop_days", 0, "At least 1: the graph keeps transfers for weeks"),
        ("value_spread_percent", 51, "At most 50: values further apart than half"),
        ("proximity_hops", 0, "At least 1"),
        ("proximity_hops", 4, "At most 3: beyond 3 hops a transaction graph is a small world"),
        ("proximity_hub_counterparties", 4, "At least 5: fewer would make ordinary customers"),
        ("proximity_hub_counterparties", 1001, "At most 1,000"),
    ],
)
def test_a_value_out_of_its_range_is_refused_with_why(field, value, message):
    errors = _refused(**{field: value})

    assert list(errors) == [field]
    assert message in " ".join(errors[field])


def test_a_search_longer_than_the_graph_keeps_is_refused(settings):
    settings.SENTINEL_NETWORK_RETENTION_DAYS = 20

    errors = _refused(carried_days=30)

    assert errors["carried_days"] == [
        "The graph keeps 20 days of transfers (SENTINEL_NETWORK_RETENTION_DAYS): a search over "
        "30 days would see only those."
    ]


def test_a_window_and_history_the_graph_cannot_hold_are_refused():
    errors = _refused(window_days=14, history_days=31)

    assert "window + history = 45 days of graph, but it keeps 42" in errors["history_days"][0]
    assert "no partner would ever be scanned" in errors["history_days"][0]


def test_a_version_needs_every_parameter_a_reason_and_an_officer():
    values = parameter_values()
    del values["fan_min"]
    with pytest.raises(ValidationError, match="missing: fan_min"):
        governance.parameter_version_create(author=officer(), comment="x", **values)
    with pytest.raises(ValidationError, match="Unknown parameters: hops"):
        governance.parameter_version_create(
            author=officer(), comment="x", hops=3, **parameter_values()
        )
    assert "comment" in _refused(comment="  ")
    with pytest.raises(PermissionDenied, match="Only compliance officers draft"):
        parameter_version(author=investigator())
    assert ParameterVersion.objects.count() == 1


def test_the_database_refuses_a_bad_version_and_a_second_row_in_force():
    version = ParameterVersion.objects.get(number=1)
    bad = {**version.values(), "max_hops": 40}
    with pytest.raises(IntegrityError, match="parameters_max_hops_range"):
        with db_transaction.atomic():
            ParameterVersion.objects.create(number=2, comment="raw", **bad)
    wide = {**version.values(), "value_spread_percent": 90}
    with pytest.raises(IntegrityError, match="parameters_value_spread_percent_range"):
        with db_transaction.atomic():
            ParameterVersion.objects.create(number=2, comment="raw", **wide)
    with pytest.raises(IntegrityError, match="parameters_in_force_one"):
        with db_transaction.atomic():
            ParametersInForce.objects.create(pk=2, version=version)


def test_a_version_is_never_changed_nor_deleted():
    version = parameter_version(max_hops=6)

    with pytest.raises(AppendOnlyError):
        version.save()
    with pytest.raises(IntegrityError, match="append-only"):
        with db_transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE network_parameterversion SET max_hops = 8 WHERE id = %s", [version.pk]
            )


def test_versions_are_numbered_in_turn_and_remember_what_they_were_based_on():
    first, second = parameter_version(max_hops=6), parameter_version(max_hops=8)

    assert (first.number, second.number) == (2, 3)
    assert first.based_on.number == second.based_on.number == 1  # the one in force

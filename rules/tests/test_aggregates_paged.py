"""Keys over the read budget: read in pages and swept on the worker (rules.aggregates.paged),
with the same answers as the store's script and as the SQL reference."""

from __future__ import annotations

import random

import pytest
from django.db import transaction as db_transaction
from django.test import override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from rules.aggregates import (
    aggregate_from_sql,
    aggregates_compute,
    aggregates_record_and_compute,
    event_from_transaction,
    paged,
    store,
)
from rules.tests.test_aggregates import (
    _ALWAYS,
    _clear_aggregates,
    _row,
    _rows,
    _specs,
    exactly,
    record,
)
from rules.tests.test_aggregates_hotkeys import _hot_rows, _hot_specs
from sentinel.redis import get_redis, redis_key
from transactions.models import Transaction
from transactions.tests.factories import PartnerBankFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner():
    return PartnerBankFactory()


@pytest.fixture
def reads(monkeypatch) -> list[int]:
    """How many members each paged read returned (a spy on the real client call)."""
    sizes: list[int] = []
    real = paged.read_pages

    def spy(client, *args):
        return real(_Counting(client, sizes), *args)

    monkeypatch.setattr(paged, "read_pages", spy)
    return sizes


class _Counting:
    def __init__(self, client, sizes):
        self.client, self.sizes = client, sizes

    def zrangebyscore(self, *args, **kwargs):
        rows = self.client.zrangebyscore(*args, **kwargs)
        self.sizes.append(len(rows))
        return rows


@hypothesis_settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(_rows(), min_size=5, max_size=30),
    drawn=st.lists(_specs(), min_size=1, max_size=8, unique=True),
    seed=st.integers(0, 2**16),
    budget=st.integers(1, 6),
)
def test_paged_keys_answer_as_the_script_and_as_sql(partner, rows, drawn, seed, budget):
    # Given a random history, recorded shuffled, and random specs next to unfiltered ones
    specs = list(dict.fromkeys([*drawn, *_ALWAYS]))
    _clear_aggregates()
    with db_transaction.atomic():
        history = Transaction.objects.bulk_create(
            [Transaction(**_row(partner, **row)) for row in rows]
        )
        shuffled = history[:]
        random.Random(seed).shuffle(shuffled)
        record(*shuffled)
        events = [event_from_transaction(tx) for tx in history]

        # When every value is computed by the script, then with a read budget of a few members
        # (so nearly every key is read in pages of that size, ties cut across pages)
        by_script = aggregates_compute(events, specs)
        with override_settings(SENTINEL_AGGREGATE_READ_BUDGET=budget):
            by_pages = aggregates_compute(events, specs)

        # Then both give every value exactly, and both equal the SQL reference
        assert [[exactly(v[s]) for s in specs] for v in by_pages] == [
            [exactly(v[s]) for s in specs] for v in by_script
        ]
        for tx, values in zip(history, by_pages, strict=True):
            for aggregate in specs:
                expected = aggregate_from_sql(aggregate, tx)
                assert exactly(values[aggregate]) == exactly(expected), (aggregate, tx.occurred_at)
        db_transaction.set_rollback(True)


def test_a_hot_key_over_the_budget_is_read_in_pages_no_larger_than_the_budget(
    settings, reads, partner
):
    # Given a burst of 300 transactions, three quarters on one account, recorded, and a read
    # budget of 40 members
    settings.SENTINEL_AGGREGATE_READ_BUDGET = 40
    rng = random.Random(7)
    specs = _hot_specs(rng)
    with db_transaction.atomic():
        history = Transaction.objects.bulk_create(
            [Transaction(**_row(partner, **row)) for row in _hot_rows(rng, 300)]
        )
        rng.shuffle(history)
        record(*history[:200])
        batch = history[200:]
        wanted = [set(rng.sample(specs, rng.randint(1, len(specs) // 3))) for _ in batch]

        # When the other 100 arrive in one batch, each wanting some specs
        values = aggregates_record_and_compute(
            [event_from_transaction(tx) for tx in batch], specs, wanted=wanted
        )

        # Then the busy keys were read in several pages of at most 40 members, and every event
        # got exactly what it wanted, equal to the SQL reference
        assert len(reads) > 3
        assert max(reads) <= 40
        assert [set(computed) for computed in values] == wanted
        for tx, computed in zip(batch, values, strict=True):
            for aggregate, value in computed.items():
                assert exactly(value) == exactly(aggregate_from_sql(aggregate, tx))
        db_transaction.set_rollback(True)


def test_pages_continue_across_equal_scores_and_a_member_added_meanwhile():
    # Given a key with 5 members at score 10, 7 at score 20 and 3 at score 30
    client = get_redis()
    key = redis_key("test", "paged")
    client.delete(key)
    scores = [10] * 5 + [20] * 7 + [30] * 3
    client.zadd(key, {f"m{n:02d}{paged.SEPARATOR}1": score for n, score in enumerate(scores)})

    class AddsOnce:
        """Adds a member at score 20 (ordering first among them) after the first page."""

        calls = 0

        def zrangebyscore(self, *args, **kwargs):
            rows = client.zrangebyscore(*args, **kwargs)
            self.calls += 1
            if self.calls == 1:
                client.zadd(key, {f"a0{paged.SEPARATOR}1": 20})
            return rows

    # When it is read over (0, 30] in pages of 3 (each page ending on a tie)
    members = paged.read_pages(AddsOnce(), key, 0, 30, 3)

    # Then every member is read once, in order; the one added before its place was reached too
    ids = [fields[0] for fields in members.fields]
    assert ids == [f"m{n:02d}" for n in range(5)] + ["a0"] + [f"m{n:02d}" for n in range(5, 15)]
    assert members.scores == sorted(members.scores)
    client.delete(key)


def test_a_page_full_of_members_already_read_at_one_score_looks_further_along_it():
    # Given 9 members sharing one score, then one later
    client = get_redis()
    key = redis_key("test", "paged-ties")
    client.delete(key)
    client.zadd(key, {f"m{n}{paged.SEPARATOR}1": 5 for n in range(9)} | {"z": 6})

    # When read in pages of 2
    members = paged.read_pages(client, key, 0, 10, 2)

    # Then all ten come back once each
    assert [fields[0] for fields in members.fields] == [f"m{n}" for n in range(9)] + ["z"]
    client.delete(key)


def test_only_oversized_keys_leave_the_script(settings, partner, monkeypatch):
    # Given an account with 60 recorded transactions and another with 3, and a budget of 20
    settings.SENTINEL_AGGREGATE_READ_BUDGET = 20
    rng = random.Random(3)
    rows = _hot_rows(rng, 80)
    for n, row in enumerate(rows):
        row["account"] = "HOT" if n < 60 else "COOL"
        row["customer"], row["device"], row["ip"], row["counterparty"] = "", "", None, ""
    specs = [s for s in _hot_specs(rng) if s.by == "account"]
    with db_transaction.atomic():
        history = Transaction.objects.bulk_create(
            [Transaction(**_row(partner, **row)) for row in rows]
        )
        record(*history)
        swept: list[str] = []
        real = paged.compute_key

        def spy(client, key, jobs, page):
            swept.append(key)
            return real(client, key, jobs, page)

        monkeypatch.setattr(paged, "compute_key", spy)

        # When both accounts' transactions are computed together
        values = aggregates_compute([event_from_transaction(tx) for tx in history], specs)

        # Then only the hot account was swept from pages, and all values equal SQL
        assert swept == [store.set_key(partner.pk, "account", "HOT")]
        for tx, computed in zip(history, values, strict=True):
            for aggregate in specs:
                assert exactly(computed[aggregate]) == exactly(aggregate_from_sql(aggregate, tx))
        db_transaction.set_rollback(True)

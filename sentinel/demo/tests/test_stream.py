"""Live demo traffic: the pure stream without a database, then ``manage.py demo_traffic``
against the real ASGI application over HTTP, signed as a partner signs."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command

from sentinel.demo import generator as demo
from sentinel.demo.management.commands import demo_traffic as demo_traffic_command
from sentinel.demo.management.commands.demo_traffic import Streamer, demo_credentials
from sentinel.demo.stream import LIVE_KEY, LivePayload, live_traffic
from sentinel.embedded import free_port
from transactions.models import ApiKey, PartnerBank, Transaction
from transactions.schemas import validate_transaction
from transactions.services import api_key_revoke

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TICK = timedelta(seconds=1) / 3  # the default rate


class FakeClock:
    """Advances a third of a second each time it is read, as if sending at 3 per second."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += TICK
        return self.now


def _take(count: int, **options) -> list[LivePayload]:
    options = {"run": "t1", "clock": FakeClock(), **options}
    return list(itertools.islice(live_traffic(**options), count))


@pytest.fixture(scope="module")
def stream() -> list[LivePayload]:
    """About five rounds (five compressed days) of the default population."""
    return _take(3000)


def _customer_side(payload: dict) -> dict:
    return payload["originator" if payload["direction"] == "outbound" else "beneficiary"]


OLD_HISTORY = timedelta(days=180)


def _is_old_history(item: LivePayload) -> bool:
    """A dormant account's activity from before it fell asleep: months old on purpose (the
    planter puts it at least 200 days before the reactivation)."""
    occurred = datetime.fromisoformat(item.payload["occurred_at"])
    return item.typology == "dormant_reactivation" and occurred < datetime.now(UTC) - OLD_HISTORY


def test_the_same_seed_and_run_give_the_same_stream(stream):
    assert [item.payload for item in _take(800)] == [item.payload for item in stream[:800]]


def test_another_seed_or_run_gives_other_traffic(stream):
    amounts = [item.payload["amount"] for item in stream[:300]]

    assert [item.payload["amount"] for item in _take(300, seed=8)] != amounts
    assert [item.payload["amount"] for item in _take(300, run="t2")] != amounts


def test_payments_are_stamped_when_taken_and_never_in_the_future():
    # Given the stream on the real clock
    traffic = live_traffic(run="now")
    taken_now = 0
    for _ in range(400):
        before = datetime.now(UTC).replace(microsecond=0)
        # When a payment is taken
        item = next(traffic)
        after = datetime.now(UTC)
        # Then it happened just now (a dormant account's old history excepted), never later
        occurred = datetime.fromisoformat(item.payload["occurred_at"])
        assert occurred <= after
        if not _is_old_history(item):
            assert occurred >= before
            taken_now += 1
    assert taken_now >= 300  # most are, so the check above ran (two or so are old history)


def test_external_ids_are_unique_over_several_rounds_and_name_the_run(stream):
    ids = [item.payload["external_id"] for item in stream]

    assert len(set(ids)) == len(ids)
    assert all(external_id.startswith("live-t1-") for external_id in ids)
    days = {item.payload["occurred_at"][:10] for item in stream if not _is_old_history(item)}
    assert days == {"2026-03-02"}  # five compressed days, all sent "today"


def test_every_typology_is_sent_early_and_in_every_round(stream):
    assert any(item.typology for item in stream[:200])
    assert {item.typology for item in stream[:1500]} >= set(demo.TYPOLOGIES)
    # one dormant account wakes up per round, each never seen before
    dormant = {
        _customer_side(item.payload)["account_id"]
        for item in stream
        if item.typology == "dormant_reactivation"
    }
    assert len(dormant) >= 4


def test_a_planted_pattern_is_sent_in_one_go_so_its_rule_fires_at_once(stream):
    # Given the payments of each planted pattern (a typology on one account)
    positions: dict[tuple[str, str], list[int]] = {}
    for index, item in enumerate(stream):
        if item.typology:
            key = (item.typology, _customer_side(item.payload)["account_id"])
            positions.setdefault(key, []).append(index)
    # Then each pattern's payments follow one another, nothing in between (the same customer
    # may carry the same typology again in another round, hundreds of payments later)
    assert positions
    all_gaps = set()
    for key, indexes in positions.items():
        gaps = {later - earlier for earlier, later in itertools.pairwise(indexes)}
        assert all(gap == 1 or gap > 300 for gap in gaps), key
        all_gaps |= gaps
    assert 1 in all_gaps  # some pattern has several payments, so the check above ran


def test_every_payment_passes_the_ingest_contract(stream):
    problems = {
        item.payload["external_id"]: errors
        for item in stream
        for _, errors in [validate_transaction(item.payload)]
        if errors
    }
    assert problems == {}


def test_the_payers_are_the_seeded_customers_and_the_demo_partners():
    seeded = demo.generate(seed=7, customers=300, days=1, end=START)
    customers = {customer.customer_id for customer in seeded.customers}
    partners = {partner.name for partner in demo.PARTNERS}

    items = _take(1000)

    assert {_customer_side(item.payload)["customer_id"] for item in items} <= customers
    assert {item.partner for item in items} == partners


def test_live_payments_never_pass_for_a_seeded_window(stream):
    """seed_demo finds the window to replay by metadata.demo_seed: live traffic has none."""
    assert all(demo.SEED_KEY not in item.payload["metadata"] for item in stream)
    assert {item.payload["metadata"][LIVE_KEY] for item in stream} == {"t1"}


def _salaries(first_day: date, count: int) -> int:
    traffic = live_traffic(run="cal", first_day=first_day, clock=FakeClock())
    return sum(
        1
        for item in itertools.islice(traffic, count)
        if item.payload["type"] == "ach" and item.payload["direction"] == "inbound"
    )


def test_rounds_follow_the_calendar_from_the_first_day():
    # Given two streams of about three rounds: from the 14th (paydays on the 15th) and from the
    # 2nd (no payday before the 15th)
    # Then salaries are paid in the first only, as on those days
    assert _salaries(date(2026, 3, 14), 1800) > 20
    assert _salaries(date(2026, 3, 2), 1800) == 0


# --- manage.py demo_traffic against the real server ---------------------------------------


def _send(url: str, count: int) -> None:
    call_command("demo_traffic", "--url", url, "--rate", "40", "--limit", str(count))


def _live_transactions():
    return Transaction.objects.filter(
        partner__name__in=[p.name for p in demo.PARTNERS], external_id__startswith="live-"
    )


@pytest.mark.django_db(transaction=True)
def test_demo_traffic_stores_transactions_through_the_signed_api(asgi_server, caplog):
    # Given a running server and no demo partner yet
    caplog.set_level(logging.INFO)
    # When 20 payments are streamed
    _send(asgi_server, 20)
    # Then the demo partners exist, each with a "demo traffic" key, and 20 transactions arrived
    assert _live_transactions().count() == 20
    for spec in demo.PARTNERS:
        partner = PartnerBank.objects.get(name=spec.name)
        assert partner.api_keys.live().filter(label="demo traffic").count() == 1
    assert "20 sent" in caplog.text and "20 created" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_the_next_run_reuses_the_stored_keys_and_replaces_revoked_ones(asgi_server):
    # Given a first run, then Northwind's demo key revoked in the admin
    _send(asgi_server, 5)
    revoked = ApiKey.objects.get(partner__name="Northwind Bank")
    api_key_revoke(api_key=revoked)
    # When the demo traffic runs again
    _send(asgi_server, 20)
    # Then the other partners' stored keys were decrypted and reused, Northwind got a new one
    assert _live_transactions().count() == 25
    assert ApiKey.objects.count() == len(demo.PARTNERS) + 1
    assert ApiKey.objects.live().filter(partner__name="Northwind Bank").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_key_revoked_while_streaming_is_replaced_and_nothing_is_lost(asgi_server, caplog):
    # Given a stream under way with the demo keys
    streamer = Streamer(
        url=asgi_server,
        credentials={spec.name: demo_credentials(spec.name) for spec in demo.PARTNERS},
        stop=threading.Event(),
    )
    traffic = live_traffic(run="revoked")
    assert streamer.stream(traffic, rate=40, limit=5).answers == {201: 5}
    # When every key is revoked in the admin, mid-stream
    for api_key in ApiKey.objects.live():
        api_key_revoke(api_key=api_key)
    caplog.set_level(logging.INFO)
    tally = streamer.stream(traffic, rate=40, limit=40)
    # Then every payment was still stored, each partner that sent has a new key, and the log
    # says why
    assert tally.answers == {201: 40}
    assert _live_transactions().count() == 45
    sent_since = _live_transactions().exclude(
        external_id__in=[f"live-revoked-{n}" for n in range(1, 6)]
    )
    partners = set(sent_since.values_list("partner__name", flat=True))
    live = set(ApiKey.objects.live().values_list("partner__name", flat=True))
    assert partners and live == partners
    assert "was revoked; sending with a new one" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_refused_partner_is_reported_with_the_server_error_and_the_rest_goes_on(
    asgi_server, caplog, monkeypatch
):
    # The stream is random per run (its id is the clock): a velocity burst from a Northwind
    # customer can fill all 30 payments. Fixed run ids make the mix known: the second run's
    # first 30 hold Northwind's and the two other partners' payments.
    sent: list[str] = []
    runs = itertools.count()

    def recorded(**options):
        for item in live_traffic(**{**options, "run": f"refused-{next(runs)}"}):
            sent.append(item.partner)
            yield item

    monkeypatch.setattr(demo_traffic_command, "live_traffic", recorded)
    # Given a demo partner switched off in the admin
    _send(asgi_server, 3)
    PartnerBank.objects.filter(name="Northwind Bank").update(is_active=False)
    from transactions.keyring import keys_changed

    keys_changed()
    caplog.set_level(logging.INFO)
    before = _live_transactions().count()
    del sent[:]
    # When the demo traffic runs
    _send(asgi_server, 30)
    # Then its payments are refused (401, logged with the API's message), the others stored
    refused = sent.count("Northwind Bank")
    assert 0 < refused < len(sent) == 30
    assert "401 Unauthorized" in caplog.text
    assert "Unknown or revoked key" in caplog.text
    assert _live_transactions().count() - before == 30 - refused
    assert f"rejected {{401: {refused}}}" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_server_that_is_down_is_retried_without_crashing(caplog):
    # Given nothing listening on the port
    url = f"http://127.0.0.1:{free_port()}"
    caplog.set_level(logging.INFO)
    # When the demo traffic runs for two seconds
    started = time.monotonic()
    call_command("demo_traffic", "--url", url, "--seconds", "2")
    # Then it kept retrying, said why once, and stopped on time
    assert time.monotonic() - started < 6
    assert caplog.text.count("Server unavailable") == 1
    assert "0 sent" in caplog.text

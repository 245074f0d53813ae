"""GET /metrics: who may scrape, what the scrape says, and what it says when a source is down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from asgiref.sync import async_to_sync
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from redis.backoff import NoBackoff
from redis.retry import Retry

from alerts.choices import DeliveryState
from alerts.models import WebhookDelivery, WebhookEndpoint
from alerts.tests.test_consumers import _connect, _cookie_for
from alerts.tests.test_services import investigator
from sentinel import metrics, metrics_scrape, runner
from sentinel.pipeline import queue
from sentinel.pipeline.orchestrator import dead_letter_record
from sentinel.pipeline.queue import QueuedTransaction, partner_queue_key, shard_partners_key
from sentinel.redis import get_redis
from sentinel.tests.test_health import closed_port
from transactions.models import Transaction
from transactions.services import transaction_ingest
from transactions.tests.factories import PartnerBankFactory, transaction_payload

URL = "/metrics"
TOKEN = "scrape-me-7f3a9c"  # noqa: S105
PROJECT_DIR = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def samples(body: bytes) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of a scrape, parsed as a Prometheus server would."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def scrape(client, **extra) -> dict[tuple[str, tuple], float]:
    response = client.get(URL, **extra)
    assert response.status_code == 200, response.content
    return samples(response.content)


def uuid7_made(seconds_ago: float) -> uuid.UUID:
    """A uuid7 as sentinel.ids makes them, stamped ``seconds_ago`` in the past."""
    unix_ms = int((time.time() - seconds_ago) * 1000)
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    return uuid.UUID(int=unix_ms << 80 | 0x7 << 76 | 0x123 << 64 | 0b10 << 62 | rand)


@pytest.fixture
def token(settings):
    settings.SENTINEL_METRICS_TOKEN = TOKEN
    return TOKEN


@pytest.fixture
def no_token(settings):
    settings.SENTINEL_METRICS_TOKEN = ""


@pytest.fixture
def redis_unreachable(monkeypatch):
    dead = redis.Redis(host="127.0.0.1", port=closed_port(), retry=Retry(NoBackoff(), 0))
    monkeypatch.setattr(queue, "get_redis", lambda: dead)


# --- Who may scrape ----------------------------------------------------------------------------


def test_with_a_token_set_a_scrape_without_it_is_refused_with_the_api_error_shape(client, token):
    # Given SENTINEL_METRICS_TOKEN is set
    # When a client on the loopback scrapes without credentials
    response = client.get(URL)

    # Then it is refused as unauthenticated, in the contract's error shape, naming the scheme
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"sentinel_" not in response.content


@pytest.mark.parametrize(
    "header",
    [f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer ", f"Basic {TOKEN}", TOKEN, "Bearer"],
)
def test_with_a_token_set_a_wrong_token_is_refused(client, token, header):
    response = client.get(URL, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_with_a_token_set_the_right_token_scrapes_from_any_address(client, token):
    # Given a scraper on another host holding the token (any case of the scheme)
    for scheme in ("Bearer", "bearer"):
        # When it scrapes
        response = client.get(
            URL, HTTP_AUTHORIZATION=f"{scheme} {TOKEN}", REMOTE_ADDR="203.0.113.9"
        )

        # Then it gets the Prometheus text format
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=0.0.4")
        assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("address", ["127.0.0.1", "127.9.8.7", "::1", "::ffff:127.0.0.1"])
def test_without_a_token_loopback_clients_may_scrape(client, no_token, address):
    response = client.get(URL, REMOTE_ADDR=address)

    assert response.status_code == 200


@pytest.mark.parametrize("address", ["10.0.0.7", "203.0.113.9", "2001:db8::1", "", "unknown"])
def test_without_a_token_other_clients_are_forbidden(client, no_token, address):
    # Given no token is configured (development)
    # When a client off the loopback scrapes, even with some bearer token
    response = client.get(URL, REMOTE_ADDR=address, HTTP_AUTHORIZATION="Bearer guess")

    # Then it is forbidden, and told why
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "SENTINEL_METRICS_TOKEN" in response.json()["error"]["message"]


def test_only_get_is_served(client, no_token):
    assert client.post(URL).status_code == 405


def test_a_logged_in_session_is_neither_needed_nor_enough(client, token, django_user_model):
    # Given a superuser's browser session but no token
    client.force_login(django_user_model.objects.create_superuser("root", password="pw"))

    # When it scrapes, the session does not stand in for the token
    assert client.get(URL).status_code == 401


# --- What the scrape says ----------------------------------------------------------------------


def test_every_metric_family_is_present_and_parses(client, no_token):
    response = client.get(URL)

    families = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert {
        "sentinel_pipeline_stage_seconds",
        "sentinel_pipeline_batch_size",
        "sentinel_decisions",
        "sentinel_provider_failures",
        "sentinel_rule_failures",
        "sentinel_scrape_probe_errors",
        "sentinel_websocket_clients",
        "sentinel_profiling_backlog",
        "sentinel_profiling_backlog_oldest_seconds",
        "sentinel_transactions_unprofiled",
        "sentinel_transactions_unprofiled_oldest_seconds",
        "sentinel_webhook_outbox",
        "sentinel_webhook_outbox_overdue_seconds",
        "sentinel_scrape_probe_ok",
        "sentinel_scrape_probe_seconds",
    } <= families


def test_every_stage_and_outcome_has_a_series_before_anything_happens(client, no_token):
    scraped = scrape(client)

    for stage in metrics.STAGES:
        assert ("sentinel_pipeline_stage_seconds_count", (("stage", stage),)) in scraped
        assert ("sentinel_pipeline_batch_size_count", (("stage", stage),)) in scraped
    for outcome in ("allow", "review", "block"):
        assert ("sentinel_decisions_total", (("outcome", outcome),)) in scraped


def test_a_stage_observation_appears_in_its_histograms(client, no_token):
    before = scrape(client)

    # When the rules stage reports a 30 ms run over a batch of 40
    metrics.observe_stage("rules", 0.03, 40)

    # Then one more run, 30 ms and 40 items more, and the run falls in the 50 ms bucket
    after = scrape(client)
    rules = (("stage", "rules"),)

    def grew(name: str, labels: tuple = rules) -> float:
        return after[(name, labels)] - before.get((name, labels), 0.0)

    assert grew("sentinel_pipeline_stage_seconds_count") == 1
    assert grew("sentinel_pipeline_stage_seconds_sum") == pytest.approx(0.03)
    assert grew("sentinel_pipeline_stage_seconds_bucket", (("le", "0.05"), *rules)) == 1
    assert grew("sentinel_pipeline_stage_seconds_bucket", (("le", "0.025"), *rules)) == 0
    assert grew("sentinel_pipeline_batch_size_sum") == 40
    assert grew("sentinel_pipeline_batch_size_bucket", (("le", "50.0"), *rules)) == 1
    # and no other stage moved
    assert grew("sentinel_pipeline_stage_seconds_count", (("stage", "alerts"),)) == 0


def test_the_stage_timer_records_the_block_even_when_it_raises(client, no_token):
    count = ("sentinel_pipeline_stage_seconds_count", (("stage", "notify"),))
    seconds = ("sentinel_pipeline_stage_seconds_sum", (("stage", "notify"),))
    before = scrape(client)

    with metrics.stage_timer("notify", batch_size=3):
        time.sleep(0.02)
    with pytest.raises(RuntimeError), metrics.stage_timer("notify", batch_size=3):
        raise RuntimeError("the webhook sender fell over")

    after = scrape(client)
    assert after[count] - before[count] == 2
    assert after[seconds] - before[seconds] >= 0.02


def test_an_unknown_stage_is_refused_rather_than_starting_a_new_series():
    with pytest.raises(ValueError, match="Unknown pipeline stage 'scoring'"):
        metrics.observe_stage("scoring", 0.01, 1)
    with pytest.raises(ValueError, match="Unknown pipeline stage"):
        with metrics.stage_timer("Rules", 1):
            pass


def test_decisions_are_counted_by_outcome(client, no_token):
    before = scrape(client)

    metrics.count_decisions(["allow", "block", "allow", "review", "allow"])
    metrics.count_decisions(iter(["block"]))  # any iterable, a generator included
    metrics.count_decisions([])

    after = scrape(client)
    for outcome, grew in {"allow": 3, "review": 1, "block": 2}.items():
        key = ("sentinel_decisions_total", (("outcome", outcome),))
        assert after[key] - before[key] == grew


def test_provider_and_rule_failures_are_counted_by_name(client, no_token):
    before = scrape(client)

    metrics.count_provider_failure("geoip")
    metrics.count_provider_failure("geoip", count=2)
    metrics.count_rule_failure("velocity-24h")

    after = scrape(client)
    geoip = ("sentinel_provider_failures_total", (("provider", "geoip"),))
    rule = ("sentinel_rule_failures_total", (("rule", "velocity-24h"),))
    assert after[geoip] - before.get(geoip, 0.0) == 3
    assert after[rule] - before.get(rule, 0.0) == 1


@pytest.mark.django_db(transaction=True)  # the consumer reads the session on another thread
def test_websocket_clients_count_staff_connections_while_they_are_open():
    # Given an investigator's browser and an anonymous one
    investigator_headers = _cookie_for(investigator())
    anonymous_headers = _cookie_for(None)

    def clients() -> float:
        return REGISTRY.get_sample_value("sentinel_websocket_clients")

    @async_to_sync
    async def scenario() -> list[float]:
        seen = [clients()]
        refused, _ = await _connect(anonymous_headers)
        await refused.receive_output(timeout=5)  # closed with 4401
        seen.append(clients())
        socket, connected = await _connect(investigator_headers)
        assert connected
        # An answered frame means the consumer has finished connecting.
        await socket.send_input({"type": "websocket.receive", "text": "hello"})
        assert (await socket.receive_json_from(timeout=5))["type"] == "error"
        seen.append(clients())
        await socket.disconnect()
        seen.append(clients())
        return seen

    # When the anonymous one is refused and the investigator connects, then leaves
    before, after_refusal, while_open, after_close = scenario()

    # Then only the investigator's connection counted, and only while it was open
    assert after_refusal == before
    assert while_open == before + 1
    assert after_close == before


# --- Backlogs read at scrape time --------------------------------------------------------------


def queued(shard: int, partner_id: int, *ids) -> None:
    """Ids waiting in a partner's list of a shard, as the queue keeps them (no drain runs)."""
    get_redis().rpush(partner_queue_key(shard, partner_id), *(str(pk) for pk in ids))
    get_redis().sadd(shard_partners_key(shard), partner_id)


def test_dead_letters_waiting_are_counted(client, no_token):
    partner = PartnerBankFactory()
    (result,) = [transaction_ingest(partner=partner, payload=transaction_payload())]
    dead_letter_record(transaction_id=result.id, error=ValueError("cannot fold"))

    scraped = scrape(client)

    assert scraped[("sentinel_dead_letters_waiting", ())] == 1
    assert scraped[("sentinel_dead_letters_total", ())] >= 1


def test_the_profiling_backlog_counts_queued_ids_per_shard_with_the_oldest_age(client, no_token):
    # Given shard 1 holds three ids, the first made 90 s ago; shard 0 is empty
    oldest, newer = uuid7_made(90), uuid7_made(5)
    queued(1, 7, oldest, newer, uuid7_made(1))

    scraped = scrape(client)

    assert scraped[("sentinel_profiling_backlog", (("shard", "1"),))] == 3
    assert scraped[("sentinel_profiling_backlog", (("shard", "0"),))] == 0
    age = scraped[("sentinel_profiling_backlog_oldest_seconds", (("shard", "1"),))]
    assert 90 <= age < 100
    assert scraped[("sentinel_profiling_backlog_oldest_seconds", (("shard", "0"),))] == 0
    assert scraped[("sentinel_scrape_probe_ok", (("probe", "profiling_queues"),))] == 1


def test_the_backlog_follows_ingested_transactions_to_their_shard(client, no_token):
    # Given two stored transactions whose keys sit in their account's shard, not yet drained
    partner = PartnerBankFactory()
    stored = [transaction_ingest(partner=partner, payload=transaction_payload()) for _ in range(2)]
    keys = [QueuedTransaction.of(Transaction.objects.get(pk=result.id)) for result in stored]
    for key in keys:
        queued(key.shard, key.partner_id, key.id)

    scraped = scrape(client)

    # Then the shard shows both, and both count as accepted but not yet profiled
    shard = str(keys[0].shard)  # one account, one shard
    assert scraped[("sentinel_profiling_backlog", (("shard", shard),))] == 2
    assert scraped[("sentinel_transactions_unprofiled", ())] == 2
    assert 0 <= scraped[("sentinel_transactions_unprofiled_oldest_seconds", ())] < 60


def test_unprofiled_age_reads_from_the_oldest_received(client, no_token):
    partner = PartnerBankFactory()
    first = transaction_ingest(partner=partner, payload=transaction_payload())
    transaction_ingest(partner=partner, payload=transaction_payload())
    Transaction.objects.filter(pk=first.id).update(
        received_at=timezone.now() - timedelta(minutes=10)
    )

    scraped = scrape(client)

    assert 600 <= scraped[("sentinel_transactions_unprofiled_oldest_seconds", ())] < 660
    # and a profiled one no longer counts
    Transaction.objects.filter(pk=first.id).update(profiled_at=timezone.now())
    assert scrape(client)[("sentinel_transactions_unprofiled", ())] == 1


def test_the_webhook_outbox_counts_pending_deliveries_and_the_most_overdue(client, no_token):
    # Given a partner's endpoint with two pending deliveries (one due 5 minutes ago), one
    # delivered and one dead-lettered
    partner = PartnerBankFactory()
    endpoint = WebhookEndpoint.objects.create(partner=partner, url="https://bank.example/hook")
    now = timezone.now()
    states = [
        (DeliveryState.PENDING, now - timedelta(minutes=5), None),
        (DeliveryState.PENDING, now + timedelta(minutes=1), None),
        (DeliveryState.DELIVERED, None, now),
        (DeliveryState.DEAD, None, None),
    ]
    for state, due, delivered in states:
        tx = transaction_ingest(partner=partner, payload=transaction_payload())
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            transaction_id=tx.id,
            event="decision",
            payload={},
            state=state,
            next_attempt_at=due,
            delivered_at=delivered,
        )

    scraped = scrape(client)

    assert scraped[("sentinel_webhook_outbox", ())] == 2
    assert 300 <= scraped[("sentinel_webhook_outbox_overdue_seconds", ())] < 360
    assert scraped[("sentinel_scrape_probe_ok", (("probe", "webhook_outbox"),))] == 1


def test_a_redis_outage_still_answers_with_the_probe_flagged(client, no_token, redis_unreachable):
    # Given Redis is unreachable
    before = scrape(client)

    # When Prometheus scrapes
    started = time.monotonic()
    response = client.get(URL)

    # Then the scrape answers, quickly, with the Redis probe flagged and its series left out
    assert response.status_code == 200
    assert time.monotonic() - started < 5
    scraped = samples(response.content)
    assert scraped[("sentinel_scrape_probe_ok", (("probe", "profiling_queues"),))] == 0
    assert not any(name == "sentinel_profiling_backlog" for name, _ in scraped)
    # while the database probes and the recorded metrics are reported as usual
    assert scraped[("sentinel_scrape_probe_ok", (("probe", "unprofiled_transactions"),))] == 1
    assert scraped[("sentinel_scrape_probe_ok", (("probe", "webhook_outbox"),))] == 1
    assert ("sentinel_decisions_total", (("outcome", "allow"),)) in scraped
    # and the failure is counted, so a failure between scrapes is not lost
    errors = ("sentinel_scrape_probe_errors_total", (("probe", "profiling_queues"),))
    assert samples(client.get(URL).content)[errors] > before.get(errors, 0.0)


DATABASE_OUTAGE_SCRAPE = """
import json, time, django
django.setup()
from sentinel.metrics_scrape import exposition
started = time.monotonic()
body = exposition().decode()
print(json.dumps({"seconds": time.monotonic() - started, "body": body}))
"""


def test_a_database_outage_answers_within_one_connect_timeout(tmp_path):
    # Given a web process whose PostgreSQL does not answer (nothing listens on its port)
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port()}/sentinel",
        "DJANGO_SETTINGS_MODULE": "sentinel.settings.local",
        "SENTINEL_STATE_DIR": str(tmp_path),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)

    # When it answers a scrape
    result = subprocess.run(
        [sys.executable, "-c", DATABASE_OUTAGE_SCRAPE],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    # Then both database probes are flagged after one short wait, not one pool timeout each
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    budget = metrics_scrape.PROBE_CONNECT_TIMEOUT_SECONDS
    assert budget <= answer["seconds"] < 2 * budget
    scraped = samples(answer["body"].encode())
    for probe in ("unprofiled_transactions", "webhook_outbox"):
        assert scraped[("sentinel_scrape_probe_ok", (("probe", probe),))] == 0
        assert scraped[("sentinel_scrape_probe_errors_total", (("probe", probe),))] == 1
    # and Redis, which is up, is still read
    assert scraped[("sentinel_scrape_probe_ok", (("probe", "profiling_queues"),))] == 1


def test_a_corrupt_queue_entry_fails_only_its_probe(client, no_token):
    queued(0, 7, "not-a-uuid")

    scraped = scrape(client)

    assert scraped[("sentinel_scrape_probe_ok", (("probe", "profiling_queues"),))] == 0
    assert scraped[("sentinel_scrape_probe_ok", (("probe", "webhook_outbox"),))] == 1


# --- Several processes (make run) --------------------------------------------------------------

RECORDER = """
import sys
from sentinel import metrics
metrics.count_decisions(["allow"] * {allow} + ["block"] * {block})
metrics.observe_stage("rules", 0.02, 10)
for _ in range({sockets}):
    metrics.websocket_opened()
print("ready", flush=True)
sys.stdin.readline()  # alive until the test closes stdin
"""


def _recorder(directory: Path, **counts: int) -> subprocess.Popen:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    process = subprocess.Popen(
        [sys.executable, "-c", RECORDER.format(**counts)],
        cwd=PROJECT_DIR,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "ready"
    return process


def test_a_scrape_sums_every_process_and_forgets_the_clients_of_dead_ones(tmp_path):
    # Given two processes recording into one multiprocess directory, as under make run
    gone = _recorder(tmp_path, allow=2, block=1, sockets=2)
    alive = _recorder(tmp_path, allow=1, block=0, sockets=1)
    try:
        # and one of them exits without closing its websockets (a crashed web worker)
        gone.stdin.close()
        gone.wait(10)

        # When this process answers a scrape from the directory
        scraped = samples(metrics_scrape.exposition(multiproc_dir=str(tmp_path)))
    finally:
        alive.stdin.close()
        alive.wait(10)

    # Then counters and histograms add up across processes, the dead one's included
    assert scraped[("sentinel_decisions_total", (("outcome", "allow"),))] == 3
    assert scraped[("sentinel_decisions_total", (("outcome", "block"),))] == 1
    assert scraped[("sentinel_pipeline_stage_seconds_count", (("stage", "rules"),))] == 2
    # but only the live process's websocket clients are still connected
    assert scraped[("sentinel_websocket_clients", ())] == 1
    assert not list(tmp_path.glob(f"gauge_livesum_{gone.pid}.db"))
    # and the probes ran here, once
    assert scraped[("sentinel_scrape_probe_ok", (("probe", "webhook_outbox"),))] == 1


def test_the_runner_gives_each_run_a_fresh_metrics_directory(tmp_path, monkeypatch):
    # Given a state directory holding a previous run's metric files
    monkeypatch.setenv("SENTINEL_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "restored after the test")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    stale = tmp_path / "prometheus" / "counter_4242.db"
    stale.parent.mkdir()
    stale.write_bytes(b"old run")

    # When make run prepares the processes' environment
    path = runner.prepare_metrics_dir()

    # Then the directory is empty and every process started after will use it
    assert path == tmp_path / "prometheus"
    assert path.is_dir() and not stale.exists()
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(path)


def test_the_runner_never_wipes_an_operators_own_metrics_directory(tmp_path, monkeypatch):
    own = tmp_path / "metrics"
    own.mkdir()
    (own / "counter_1.db").write_bytes(b"keep")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(own))

    assert runner.prepare_metrics_dir() == own
    assert (own / "counter_1.db").read_bytes() == b"keep"

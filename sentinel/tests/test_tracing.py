"""Tracing (sentinel.tracing): a signed request and the pipeline batch that takes its
transactions, stage by stage, as OpenTelemetry spans; nothing at all when switched off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from redis.exceptions import ConnectionError as RedisConnectionError

from rules.tests import factories as rule_factories
from sentinel import metrics, tracing
from sentinel.pipeline import orchestrator, stages
from sentinel.pipeline.models import DeadLetter
from sentinel.redis import get_redis, redis_key
from transactions.tests.factories import transaction_payload

pytestmark = pytest.mark.django_db

STAGE_SPANS = [f"sentinel.pipeline.{stage}" for stage in metrics.STAGES]


@pytest.fixture
def spans():
    """Tracing switched on, exporting to memory; off again afterwards."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.enable(provider)
    yield exporter
    tracing.disable()
    provider.shutdown()


@pytest.fixture
def sender(settings, partner_client, django_capture_on_commit_callbacks):
    """A partner's signed client whose accepted transactions wait in one queue shard (no
    broker: the drain task is not published), and the drain a worker would run."""
    settings.SENTINEL_PROFILE_SHARDS = 1
    client = partner_client()

    def post(path: str, payload: dict):  # a new transaction (201) or batch (200)
        with (
            mock.patch("sentinel.pipeline.tasks.drain_profiling_shard.apply_async"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            reply = client.post(path, payload)
        assert reply.status_code == (200 if path.endswith("/batch/") else 201), reply.content
        return reply.json()

    def drain() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return orchestrator.transactions_queued_process()

    client.send, client.drain = post, drain
    return client


def _named(exporter, name: str) -> list:
    return [span for span in exporter.get_finished_spans() if span.name == name]


def _trace_keys() -> list:
    return list(get_redis().scan_iter(match=redis_key("profiling", "trace", "*")))


def test_a_signed_post_and_its_drain_trace_every_stage_linked_to_the_request(spans, sender):
    rule_factories.only_these_rules(
        rule_factories.rule(code="big", expression="amount >= 10000", outcome="review")
    )
    sender.send("/api/v1/transactions/", transaction_payload(amount="12000.00"))
    (request,) = _named(spans, "sentinel.ingest")
    assert not _named(spans, "sentinel.pipeline.batch")  # nothing ran in the request

    assert sender.drain() == 1

    assert request.kind == SpanKind.SERVER
    assert request.attributes["sentinel.partner.id"] == sender.partner.pk
    assert request.attributes["url.path"] == "/api/v1/transactions/"
    (batch,) = _named(spans, "sentinel.pipeline.batch")
    assert batch.kind == SpanKind.CONSUMER
    assert [link.context.span_id for link in batch.links] == [request.context.span_id]
    assert [link.context.trace_id for link in batch.links] == [request.context.trace_id]
    assert batch.attributes["sentinel.batch.size"] == 1
    assert batch.attributes["sentinel.partner.ids"] == (sender.partner.pk,)
    assert batch.attributes["sentinel.decisions"] == 1
    assert batch.attributes["sentinel.decisions.review"] == 1
    assert batch.attributes["sentinel.alerts"] == 1
    stage_spans = [span for span in spans.get_finished_spans() if span.name in STAGE_SPANS]
    assert [span.name for span in stage_spans] == STAGE_SPANS
    for span in stage_spans:
        assert span.parent.span_id == batch.context.span_id
        assert span.context.trace_id == batch.context.trace_id
        assert span.attributes["sentinel.stage"] == span.name.rsplit(".", 1)[1]
    sizes = {
        s.attributes["sentinel.stage"]: s.attributes["sentinel.batch.size"] for s in stage_spans
    }
    assert sizes["claim"] == sizes["decision"] == sizes["alerts"] == sizes["cases"] == 1
    assert _trace_keys() == []  # forgotten once the batch committed


def test_a_batch_merging_several_requests_links_each_request_once(spans, sender):
    sender.send("/api/v1/transactions/", transaction_payload())
    sender.send("/api/v1/transactions/?wait=true", transaction_payload())
    sender.send(
        "/api/v1/transactions/batch/",
        {"transactions": [transaction_payload(), transaction_payload()]},
    )
    requests = _named(spans, "sentinel.ingest")
    assert len(requests) == 3

    assert sender.drain() == 4

    (batch,) = _named(spans, "sentinel.pipeline.batch")
    linked = sorted(link.context.span_id for link in batch.links)
    assert linked == sorted(request.context.span_id for request in requests)
    assert batch.attributes["sentinel.batch.size"] == 4
    assert batch.attributes["sentinel.batch.requests"] == 3


def test_a_partners_traceparent_header_does_not_join_its_trace(spans, sender):
    """A partner's own trace context is not trusted: the request span starts a trace of ours."""
    foreign = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    sender.client.credentials(HTTP_TRACEPARENT=foreign)

    sender.send("/api/v1/transactions/", transaction_payload())

    (request,) = _named(spans, "sentinel.ingest")
    assert request.parent is None
    assert format(request.context.trace_id, "032x") != "0af7651916cd43dd8448eb211c80319c"


def test_a_failing_stage_is_an_error_span_and_the_split_halves_keep_their_links(
    spans, sender, monkeypatch
):
    sender.send(
        "/api/v1/transactions/batch/",
        {"transactions": [transaction_payload(external_id="ok"), transaction_payload()]},
    )
    sender.send("/api/v1/transactions/", transaction_payload(external_id="poison"))
    batch_request, poison_request = _named(spans, "sentinel.ingest")
    profile = stages.profile

    def failing(batch):  # a fault in one transaction's data
        if any(tx.external_id == "poison" for tx in batch):
            raise ValueError("cannot fold poison")
        return profile(batch)

    monkeypatch.setattr(stages, "profile", failing)

    assert sender.drain() == 2

    assert DeadLetter.objects.get().transaction.external_id == "poison"
    failed = [span for span in spans.get_finished_spans() if not span.status.is_ok]
    # The batch of three, then the half holding the poison, then the poison alone: each a
    # failed profile stage in a failed batch.
    assert sorted(span.name for span in failed) == sorted(
        ["sentinel.pipeline.batch", "sentinel.pipeline.profile"] * 3
    )
    assert all(span.status.status_code == StatusCode.ERROR for span in failed)
    assert all(span.events[0].attributes["exception.type"] == "ValueError" for span in failed)
    ok, poison = batch_request.context.span_id, poison_request.context.span_id
    links = [
        sorted(link.context.span_id for link in batch.links)
        for batch in _named(spans, "sentinel.pipeline.batch")
    ]
    assert sorted(links) == sorted(
        [sorted([ok, poison]), [ok], sorted([ok, poison]), [ok], [poison]]
    )
    assert len(_trace_keys()) == 1  # the dead letter's, until it is retried or expires


def test_a_garbled_stored_trace_context_is_ignored(spans, sender):
    sender.send("/api/v1/transactions/", transaction_payload())
    (key,) = _trace_keys()
    get_redis().set(key, "00-not-a-trace-context-01")

    assert sender.drain() == 1

    (batch,) = _named(spans, "sentinel.pipeline.batch")
    assert batch.links == ()
    assert len(_named(spans, "sentinel.pipeline.notify")) == 1


def test_unreadable_trace_contexts_leave_the_batch_unlinked_but_processed(spans, sender):
    sender.send("/api/v1/transactions/", transaction_payload())
    with mock.patch("redis.Redis.mget", side_effect=RedisConnectionError("Redis away")):
        assert sender.drain() == 1

    (batch,) = _named(spans, "sentinel.pipeline.batch")
    assert batch.links == ()
    assert batch.attributes["sentinel.decisions"] == 1


def test_switched_off_there_are_no_spans_and_nothing_kept_for_them(sender):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))  # not handed to tracing

    sender.send("/api/v1/transactions/", transaction_payload())
    assert _trace_keys() == []
    assert sender.drain() == 1

    assert not tracing.enabled()
    assert tracing.traceparent() is None
    assert exporter.get_finished_spans() == ()


def _start(*, without_opentelemetry: bool = False, **environment) -> dict:
    """Start Django in a fresh interpreter, load the ingest and pipeline modules, and say
    whether tracing is on and which of its modules got imported."""
    script = "\n".join(
        [
            "import json, sys",
            "sys.modules['opentelemetry'] = None" if without_opentelemetry else "",
            "import django",
            "django.setup()",
            "import sentinel.pipeline.api.views, sentinel.pipeline.orchestrator",
            "from sentinel import tracing",
            "with tracing.stage_span('claim', 1):",
            "    parent = tracing.traceparent()",
            f"loaded = sorted(m for m in sys.modules if m.startswith({TRACING_MODULES!r}))",
            "print(json.dumps({'enabled': tracing.enabled(), 'traceparent': parent,"
            " 'loaded': loaded}))",
        ]
    )
    env = {name: value for name, value in os.environ.items() if "OTEL" not in name}
    env.update(DJANGO_SETTINGS_MODULE="sentinel.settings.test", **environment)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# What switching tracing on loads. (redis-py 8 imports OpenTelemetry's *metrics* SDK by itself
# whenever it is installed; that is Redis's, on or off, and not ours to switch.)
TRACING_MODULES = ("sentinel.tracing.otel", "opentelemetry.sdk.trace", "opentelemetry.exporter")


def test_switched_off_none_of_the_tracing_modules_is_imported():
    assert _start() == {"enabled": False, "traceparent": None, "loaded": []}
    assert _start(SENTINEL_OTEL="0") == {"enabled": False, "traceparent": None, "loaded": []}


def test_switched_off_sentinel_runs_without_opentelemetry_installed():
    started = _start(without_opentelemetry=True)

    assert started == {"enabled": False, "traceparent": None, "loaded": []}


def test_switched_on_by_the_environment_it_exports_over_otlp():
    started = _start(
        SENTINEL_OTEL="1",
        OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9",
        OTEL_TRACES_SAMPLER="always_off",  # nothing to send to that closed port at exit
    )

    assert started["enabled"] is True
    assert started["traceparent"].startswith("00-")  # inside the stage span
    assert "sentinel.tracing.otel" in started["loaded"]
    assert "opentelemetry.exporter.otlp.proto.http.trace_exporter" in started["loaded"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("OTEL_TRACES_EXPORTER", "zipkin", "'otlp' or 'console'"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "OTLP over HTTP only"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json", "OTLP over HTTP only"),
    ],
)
def test_an_exporter_it_cannot_serve_is_refused_at_start(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)

    with pytest.raises(ImproperlyConfigured, match=message):
        tracing.enable()
    assert not tracing.enabled()


def test_without_the_exporter_installed_the_start_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)

    with pytest.raises(ImproperlyConfigured, match=r"pip install 'sentinel\[otel\]'"):
        tracing.enable()
    assert not tracing.enabled()

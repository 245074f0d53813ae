"""The OpenTelemetry side of sentinel.tracing: imported only when tracing is switched on.

Span names and attributes are listed in docs/operations.md § Tracing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Link, SpanContext, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
_HTTP_PROTOCOL = "http/protobuf"


def provider_from_environment() -> TracerProvider:
    """A provider configured by the standard variables: ``OTEL_SERVICE_NAME`` (default
    ``sentinel``), ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER[_ARG]``, the span limits,
    and the exporter (``OTEL_TRACES_EXPORTER``, ``OTEL_EXPORTER_OTLP_*``)."""
    service = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: "sentinel"}
    provider = TracerProvider(resource=Resource.create(service))
    # Batching exports off the request and the worker's path; the SDK restarts its export
    # thread in each process the Celery worker forks.
    provider.add_span_processor(BatchSpanProcessor(_exporter_from_environment()))
    return provider


def _exporter_from_environment() -> SpanExporter:
    name = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower()
    if name == "console":
        return ConsoleSpanExporter()
    if name != "otlp":
        raise ImproperlyConfigured(
            f"OTEL_TRACES_EXPORTER={name!r}: Sentinel exports traces with 'otlp' or 'console'."
        )
    for variable in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        protocol = os.environ.get(variable, _HTTP_PROTOCOL).strip().lower()
        if protocol != _HTTP_PROTOCOL:
            raise ImproperlyConfigured(
                f"{variable}={protocol!r}: Sentinel exports OTLP over HTTP only "
                f"({_HTTP_PROTOCOL!r}, a collector's port 4318)."
            )
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as error:  # the SDK without the exporter: say which package is missing
        raise ImproperlyConfigured(
            f"OTLP export needs opentelemetry-exporter-otlp-proto-http ({error}): "
            "pip install 'sentinel[otel]'."
        ) from error
    return OTLPSpanExporter()


def span_context_of(traceparent: str) -> SpanContext | None:
    """The remote span context a W3C ``traceparent`` names; None if it is malformed."""
    carrier = {"traceparent": traceparent}
    context = trace.get_current_span(_PROPAGATOR.extract(carrier)).get_span_context()
    return context if context.is_valid else None


class Backend:
    """What sentinel.tracing does when switched on, with one provider's tracer."""

    def __init__(self, provider: TracerProvider):
        self.provider = provider
        self.tracer = provider.get_tracer("sentinel")

    def request_span(self, name: str, attributes: Mapping[str, Any]) -> AbstractContextManager:
        return self.tracer.start_as_current_span(name, kind=SpanKind.SERVER, attributes=attributes)

    def traceparent(self) -> str | None:
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier)
        return carrier.get("traceparent")

    def batch_span(self, size: int, traceparents: Iterable[str]) -> AbstractContextManager:
        # A batch merges many requests (a partner's batch POST is one request for up to 1,000
        # transactions): one link per distinct request, the OpenTelemetry model for batch
        # consumers. None of them is "the" parent.
        contexts = (span_context_of(parent) for parent in dict.fromkeys(traceparents))
        links = [Link(context) for context in contexts if context is not None]
        return self.tracer.start_as_current_span(
            "sentinel.pipeline.batch",
            kind=SpanKind.CONSUMER,
            links=links,
            attributes={"sentinel.batch.size": size, "sentinel.batch.requests": len(links)},
        )

    def stage_span(self, stage: str, batch_size: int) -> AbstractContextManager:
        return self.tracer.start_as_current_span(
            f"sentinel.pipeline.{stage}",
            attributes={"sentinel.stage": stage, "sentinel.batch.size": batch_size},
        )

    def annotate(self, attributes: Mapping[str, Any]) -> None:
        trace.get_current_span().set_attributes(attributes)

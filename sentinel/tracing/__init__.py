"""Optional OpenTelemetry tracing of a transaction's path: the signed ingest request, the
pipeline batch that took it, and each stage of that batch (docs/operations.md § Tracing).

Off by default (``SENTINEL_OTEL=1`` switches it on, sentinel.apps) and then free: this module
imports nothing from OpenTelemetry, and every function below answers at once with nothing to
do. Switched on, it hands each call to ``sentinel.tracing.otel``, the one module that imports
the SDK (the ``sentinel[otel]`` extra).

The seams, so that no stage is written with tracing in mind:

- the ingest views open ``request_span``; ``traceparent()`` is the W3C context the queue keeps
  beside each accepted id (sentinel.pipeline.queue);
- ``transactions_process`` opens ``batch_span`` with a link to each request its batch merges;
- ``sentinel.metrics.stage_timer``, which times every stage, opens ``stage_span`` as well.

Like sentinel.metrics, this module knows no app (import-linter contract "core").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Attributes = Mapping[str, Any]

# What every span function answers while tracing is off: one shared, reusable no-op.
_OFF: AbstractContextManager[None] = nullcontext()
_backend = None  # a sentinel.tracing.otel.Backend while switched on


def enabled() -> bool:
    return _backend is not None


def enable(provider=None) -> None:
    """Switch tracing on, exporting through ``provider`` (an SDK ``TracerProvider``), by
    default the one the standard ``OTEL_*`` variables describe."""
    global _backend
    try:
        # Imported here, not at the top: the SDK is an optional extra, and with tracing off
        # not one OpenTelemetry module is loaded.
        from . import otel
    except ImportError as error:
        raise ImproperlyConfigured(
            f"SENTINEL_OTEL=1 needs OpenTelemetry ({error}): pip install 'sentinel[otel]'."
        ) from error
    _backend = otel.Backend(provider or otel.provider_from_environment())


def disable() -> None:
    global _backend
    _backend = None


def enable_from_settings() -> None:
    """At start-up (sentinel.apps): on if ``SENTINEL_OTEL`` says so."""
    if settings.SENTINEL_OTEL and not enabled():
        enable()


def request_span(name: str, attributes: Callable[[], Attributes]) -> AbstractContextManager:
    """A server span around a partner's request; ``attributes`` is only called when on."""
    if _backend is None:
        return _OFF
    return _backend.request_span(name, attributes())


def traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, to carry with queued work; None when
    off or outside any span."""
    if _backend is None:
        return None
    return _backend.traceparent()


def batch_span(size: int, traceparents: Iterable[str]) -> AbstractContextManager:
    """A consumer span around one pipeline batch of ``size`` ids, linked to the requests
    (their ``traceparent``) whose transactions it merges."""
    if _backend is None:
        return _OFF
    return _backend.batch_span(size, traceparents)


def stage_span(stage: str, batch_size: int) -> AbstractContextManager:
    """A child of the current (batch) span around one stage."""
    if _backend is None:
        return _OFF
    return _backend.stage_span(stage, batch_size)


def annotate(attributes: Callable[[], Attributes]) -> None:
    """Add attributes to the current span; ``attributes`` is only called when on."""
    if _backend is not None:
        _backend.annotate(attributes())

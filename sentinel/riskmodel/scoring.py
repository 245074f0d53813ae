"""The models of this process: loaded once, reloaded when another version goes live.

As with rules (rules.engine), a Redis generation counter moves after every change that
commits (training a shadow version, going live, rollback); each process looks at it at most
every ``GENERATION_CHECK_SECONDS`` and reloads when it moved, so no restart is needed.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.db import transaction as db_transaction

from sentinel.redis import get_redis, redis_key

from .artefacts import LoadedModel
from .choices import ModelStatus
from .inputs import input_names, provider_inputs
from .models import FeatureSchema, ModelVersion

logger = logging.getLogger(__name__)

GENERATION_CHECK_SECONDS = 0.5


@dataclass
class InForce:
    """The snapshot row's schema and the live and shadow models, as this process has them."""

    schema_id: int
    names: tuple[str, ...]
    extra: tuple[str, ...]
    live: LoadedModel | None
    shadow: LoadedModel | None


_lock = threading.Lock()
_state: dict[str, object] = {"in_force": None, "generation": None, "checked": 0.0}


def in_force() -> InForce:
    """This process's schema and models, reloaded when another process changed them."""
    now = time.monotonic()
    current = _state["in_force"]
    if current is not None and now - _state["checked"] < GENERATION_CHECK_SECONDS:
        return current
    generation = _generation()
    with _lock:
        if current is None or generation is None or generation != _state["generation"]:
            current = _state["in_force"] = _load()
            _state["generation"] = generation
        _state["checked"] = now
    return current


def forget() -> None:
    """Drop this process's models; the next call reloads them (tests, after a change)."""
    _state["in_force"] = None
    _state["generation"] = None


def models_changed() -> None:
    """Call inside the transaction that trained, put live or rolled back a version."""
    db_transaction.on_commit(_bump_generation, robust=True)


def schema_current() -> tuple[int, tuple[str, ...], tuple[str, ...]]:
    """The id, names and extra provider fields of the row this configuration writes."""
    extra = provider_inputs()
    names = input_names(extra)
    schema = FeatureSchema.objects.filter(names=list(names)).first()
    if schema is None:
        schema, _ = FeatureSchema.objects.get_or_create(names=list(names))
    return schema.pk, names, extra


def _load() -> InForce:
    schema_id, names, extra = schema_current()
    loaded: dict[str, LoadedModel | None] = {ModelStatus.LIVE: None, ModelStatus.SHADOW: None}
    for version in ModelVersion.objects.filter(status__in=list(loaded)):
        try:
            loaded[version.status] = LoadedModel.of(version, names)
        except Exception:  # noqa: BLE001  a bad artefact (ArtefactCorrupt...) leaves no model, never a crash
            logger.exception("Model v%s could not be loaded; scoring without it.", version.number)
    return InForce(schema_id, names, extra, loaded[ModelStatus.LIVE], loaded[ModelStatus.SHADOW])


def _bump_generation() -> None:
    _state["in_force"] = None
    get_redis().incr(redis_key("riskmodel", "generation"))


def _generation() -> bytes | None:
    try:
        return get_redis().get(redis_key("riskmodel", "generation")) or b"0"
    except Exception:  # noqa: BLE001  without Redis, reload every time rather than trust a stale model
        logger.warning("Model generation unavailable; reloading models from the database.")
        return None

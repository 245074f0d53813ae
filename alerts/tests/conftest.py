"""Fixtures of the alert tests."""

from __future__ import annotations

import pytest

from alerts import services
from sentinel.pipeline import stages


@pytest.fixture
def alerts_wired(monkeypatch) -> list:
    """Records every batch of evaluations the pipeline's alerts stage hands to
    alerts_from_hits."""
    batches: list = []

    def recording(*, evaluations, rings=None):
        batches.append(list(evaluations))
        return services.alerts_from_hits(evaluations=evaluations, rings=rings)

    monkeypatch.setattr(stages, "alerts_from_hits", recording)
    return batches

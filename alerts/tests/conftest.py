"""Fixtures of the alert tests."""

from __future__ import annotations

import pytest

from alerts import services


@pytest.fixture
def alerts_wired(monkeypatch) -> list:
    """Records every batch of evaluations the scoring seam (rules.services.decisions) hands
    to alerts_from_hits."""
    batches: list = []
    original = services.alerts_from_hits

    def recording(*, evaluations):
        batches.append(list(evaluations))
        return original(evaluations=evaluations)

    monkeypatch.setattr(services, "alerts_from_hits", recording)
    return batches

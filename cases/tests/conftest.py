"""Fixtures of every case test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def attachment_root(settings, tmp_path):
    """Evidence files and exported reports go to the test's own folder, never the checkout."""
    settings.SENTINEL_ATTACHMENT_ROOT = tmp_path / "attachments"

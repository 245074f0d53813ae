from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sentinel.timestamps import iso_utc


def test_a_moment_is_written_in_utc_with_a_z():
    paris = timezone(timedelta(hours=1))
    moment = datetime(2026, 11, 22, 10, 0, 0, 250000, tzinfo=paris)

    assert iso_utc(moment) == "2026-11-22T09:00:00.250000Z"
    assert iso_utc(moment, timespec="seconds") == "2026-11-22T09:00:00Z"
    assert iso_utc(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00Z"


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError, match="naive"):
        iso_utc(datetime(2026, 1, 1))  # noqa: DTZ001  the point of the test

"""The findings and rings in the admin: read-only, naming the ring's members."""

from __future__ import annotations

from datetime import UTC, datetime

from sentinel.network.choices import PatternKind
from sentinel.network.models import NetworkPattern
from sentinel.network.tests.graph import send, transfer


def test_a_found_ring_is_listed_with_its_members_and_cannot_be_edited(admin_client, partner):
    ids = send(
        partner,
        transfer("A", "B", "9000.00", hours=0),
        transfer("B", "C", "8800.00", hours=5),
        transfer("C", "A", "8700.00", hours=9),
    )

    listing = admin_client.get("/admin/network/networkfinding/")
    detail = admin_client.get(f"/admin/network/networkfinding/{ids[2]}/change/")

    assert listing.status_code == 200 and str(ids[2]) in listing.content.decode()
    assert detail.status_code == 200
    assert "A, B, C" in detail.content.decode()
    assert b'name="_save"' not in detail.content


def test_a_window_ring_is_listed_with_its_members_and_cannot_be_edited(admin_client, partner):
    pattern = NetworkPattern.objects.create(
        partner=partner,
        kind=PatternKind.FAN_IN,
        hub="HUB",
        members=["HUB", "P1", "P2"],
        transactions=[],
        first_at=datetime(2026, 1, 5, tzinfo=UTC),
        last_at=datetime(2026, 1, 6, tzinfo=UTC),
    )

    listing = admin_client.get("/admin/network/networkpattern/")
    detail = admin_client.get(f"/admin/network/networkpattern/{pattern.pk}/change/")

    assert listing.status_code == 200 and "HUB" in listing.content.decode()
    assert "HUB, P1, P2" in detail.content.decode()
    assert b'name="_save"' not in detail.content

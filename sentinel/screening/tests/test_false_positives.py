"""Remembered decisions: an approved false positive leaves the pair out until either changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied

from rules.tests.factories import investigator, officer
from sentinel.screening import runtime
from sentinel.screening.matching.index import Party
from sentinel.screening.models import ScreeningEntry
from sentinel.screening.services import (
    false_positive_approve,
    false_positive_request,
    screening_list_import,
)

FIXTURES = Path(__file__).parent / "fixtures"
NAME = "Youssef Ebrahim Alamri"
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_screening_index")]


def import_sdn(content: bytes | None = None):
    return screening_list_import(
        list_name="OFAC SDN",
        source="ofac_sdn",
        content=content or (FIXTURES / "ofac_sdn.xml").read_bytes(),
    )


def best_entry(name: str = NAME, country: str = "YE") -> str | None:
    runtime.forget()
    matches = runtime.current_index().screen(Party(name, country=country))
    return ScreeningEntry.objects.get(pk=matches[0].entry_id).source_id if matches else None


def test_an_approved_false_positive_is_left_out_until_the_entry_or_party_changes():
    import_sdn()
    entry = ScreeningEntry.objects.get(source_id="10001")
    asker = officer()
    decision = false_positive_request(
        entry=entry, party_name=NAME, party_country="YE", reason="Born 1990", actor=asker
    )
    assert best_entry() == "10001"  # not yet approved

    with pytest.raises(PermissionDenied, match="another person"):
        false_positive_approve(decision=decision, approver=asker)
    false_positive_approve(decision=decision, approver=officer())
    assert best_entry() is None
    assert best_entry(country="SA") == "10001"  # the party's details changed

    text = (FIXTURES / "ofac_sdn.xml").read_bytes().replace(b"30 Jul 1961", b"30 Jul 1962")
    import_sdn(text)
    assert best_entry() == "10001"  # the entry changed


def test_an_investigator_may_not_approve():
    import_sdn()
    decision = false_positive_request(
        entry=ScreeningEntry.objects.get(source_id="10001"),
        party_name=NAME,
        reason="Different person",
        actor=officer(),
    )
    with pytest.raises(PermissionDenied, match="senior investigators"):
        false_positive_approve(decision=decision, approver=investigator())

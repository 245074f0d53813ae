"""Continuous screening: a list change re-screens known parties against the changed entries."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from sentinel.screening.models import ScreeningMatch
from sentinel.screening.rescreening import screening_rescreen
from sentinel.screening.services import screening_list_import
from transactions.models import Customer
from transactions.tests.factories import PartnerBankFactory

FIXTURES = Path(__file__).parent / "fixtures"
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_screening_index")]


def customer(partner, external_id: str, name: str) -> Customer:
    now = timezone.now()
    return Customer.objects.create(
        partner=partner, external_id=external_id, name=name, first_seen_at=now, last_seen_at=now
    )


def import_sdn(content: bytes | None = None):
    return screening_list_import(
        list_name="OFAC SDN",
        source="ofac_sdn",
        content=content or (FIXTURES / "ofac_sdn.xml").read_bytes(),
    )


def test_an_import_rescreens_customers_and_counterparties_in_the_background(
    django_capture_on_commit_callbacks,
):
    partner = PartnerBankFactory()
    listed = customer(partner, "C1", "Youssef Al Amri")
    customer(partner, "C2", "Ana Lima")

    with django_capture_on_commit_callbacks(execute=True):
        import_sdn()

    match = ScreeningMatch.objects.get()
    assert match.customer == listed and match.party_kind == "customer"
    assert match.entry.source_id == "10001" and match.score >= 88
    assert match.explanation["reasons"][0].startswith("~ Youssef AL-AMRI (OFAC SDN")


def test_only_changed_entries_are_screened_and_a_match_is_recorded_once():
    partner = PartnerBankFactory()
    customer(partner, "C1", "Sunrise Maritime Trading")
    first = import_sdn()
    assert len(screening_rescreen(list_import=first)) == 1
    assert screening_rescreen(list_import=first) == []  # already recorded

    text = (FIXTURES / "ofac_sdn.xml").read_bytes().replace(b"30 Jul 1961", b"30 Jul 1962")
    second = import_sdn(text)  # only the person changed: the company is not screened again
    assert (second.changed, second.unchanged) == (1, 2)
    assert screening_rescreen(list_import=second) == []
    assert ScreeningMatch.objects.count() == 1

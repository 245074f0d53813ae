from __future__ import annotations

import pytest

from rules.tests.factories import network_rules_live
from transactions.tests.factories import PartnerBankFactory


@pytest.fixture(autouse=True)
def network_rules(db) -> None:
    """The network rules run live in these tests (they ship as drafts)."""
    network_rules_live()


@pytest.fixture
def partner(db):
    return PartnerBankFactory()

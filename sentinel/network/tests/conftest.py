from __future__ import annotations

import pytest

from transactions.tests.factories import PartnerBankFactory


@pytest.fixture
def partner(db):
    return PartnerBankFactory()

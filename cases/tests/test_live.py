"""Live queue: a change to a case reaches every connected investigator as ``case.updated``
over ``WS /ws/alerts/``, after the commit, and a new alert brings its case along."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from alerts.tests.test_consumers import _connect, _cookie_for, _elsewhere
from cases import services
from cases.models import Case
from rules.tests.factories import only_these_rules
from transactions.tests.factories import PartnerBankFactory

from . import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


async def _messages_until(communicator, kind: str) -> list[dict]:
    messages = []
    while not messages or messages[-1]["type"] != kind:
        messages.append(await communicator.receive_json_from(timeout=5))
    return messages


def test_a_new_alert_announces_its_case_with_the_queue_fields():
    headers = _cookie_for(f.investigator())
    partner = PartnerBankFactory()
    only_these_rules(f.a_rule(severity="critical", code="huge"))

    @async_to_sync
    async def scenario():
        communicator, connected = await _connect(headers)
        assert connected
        await _elsewhere(lambda: f.ingest_and_score(partner, f.payment(amount="50000.00")))
        messages = await _messages_until(communicator, "case.updated")
        await communicator.disconnect()
        return messages

    messages = scenario()

    case = Case.objects.get()
    assert [m["type"] for m in messages] == ["alert.created", "case.updated"]
    assert messages[0]["alert"]["case_id"] == case.pk
    body = messages[-1]["case"]
    assert (body["id"], body["status"], body["severity"]) == (case.pk, "open", "critical")
    assert (body["alert_count"], body["rules"], body["version"]) == (1, ["huge"], 1)


def test_a_claim_is_pushed_to_the_queue():
    case = f.case()
    me = f.investigator()
    headers = _cookie_for(me)

    @async_to_sync
    async def scenario():
        communicator, connected = await _connect(headers)
        assert connected
        await _elsewhere(lambda: services.case_claim(case=case, actor=me))
        messages = await _messages_until(communicator, "case.updated")
        await communicator.disconnect()
        return messages

    body = scenario()[-1]["case"]
    assert (body["status"], body["assignee"], body["version"]) == (
        "investigating",
        me.username,
        2,
    )

"""Reads of rules that other apps decide by."""

from __future__ import annotations

import pytest

from rules.choices import RuleStatus
from rules.selectors import live_rule_codes
from rules.tests.factories import rule

pytestmark = pytest.mark.django_db


def test_live_rule_codes_names_only_the_live_rules_asked_about():
    live, other_live = rule(code="live_one"), rule(code="live_two")
    draft = rule(code="a_draft", status=RuleStatus.DRAFT)
    paused = rule(code="paused_one", status=RuleStatus.PAUSED)

    asked = [live.code, draft.code, paused.code, "no_such_rule"]

    assert live_rule_codes(codes=asked) == {"live_one"}
    assert other_live.code not in live_rule_codes(codes=asked)
    assert live_rule_codes(codes=[]) == set()

"""On-call email (sentinel.notifications): sent after the commit, never for a rollback."""

from __future__ import annotations

import pytest
from django.db import transaction as db_transaction

from sentinel.notifications import on_call_notify

pytestmark = pytest.mark.django_db


def test_on_call_is_emailed_once_the_transaction_commits(
    mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.SENTINEL_ON_CALL_EMAIL = "oncall@bank.example"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        on_call_notify(subject="x" * 250, body="Partner: Bank A")
        assert mailoutbox == []  # nothing leaves before the commit

    assert len(callbacks) == 1
    (message,) = mailoutbox
    assert message.to == ["oncall@bank.example"]
    assert message.subject == f"[Sentinel] {'x' * 200}"  # long subjects are cut
    assert message.body == "Partner: Bank A"


def test_nothing_is_sent_for_work_that_was_rolled_back(
    mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.SENTINEL_ON_CALL_EMAIL = "oncall@bank.example"
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), db_transaction.atomic():
            on_call_notify(subject="Critical", body="...")
            raise RuntimeError("rolled back")

    assert mailoutbox == []


def test_no_email_when_on_call_is_switched_off(
    mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.SENTINEL_ON_CALL_EMAIL = ""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        on_call_notify(subject="Critical", body="...")

    assert callbacks == []
    assert mailoutbox == []

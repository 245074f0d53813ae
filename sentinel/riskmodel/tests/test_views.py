"""The model pages: versions and their reports for every staff role, and the four-eyes steps
as forms whose refusals come back as messages (docs/models.md § Governance)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from rules.tests.factories import investigator, officer
from sentinel.riskmodel.choices import ModelChangeAction, ModelChangeState, ModelStatus
from sentinel.riskmodel.models import ModelChange, ModelDrift, ModelVersion
from sentinel.riskmodel.services import model_change_approve, model_live_request

from .factories import REPORT, model_version

pytestmark = pytest.mark.django_db
LIST = "/models/"


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _status(number: int) -> str:
    return ModelVersion.objects.get(number=number).status


@pytest.fixture
def live_v1_shadow_v2():
    """v1 live (approved by two officers), v2 freshly trained in shadow by an officer."""
    v1 = model_version(1, ModelStatus.SHADOW)
    model_change_approve(change=model_live_request(version=v1, actor=officer()), approver=officer())
    trainer = officer("trainer")
    return model_version(2, ModelStatus.SHADOW, trained_by=trainer, report=REPORT)


def test_every_staff_role_reads_the_versions_in_a_bounded_number_of_queries(
    client, live_v1_shadow_v2, django_assert_max_num_queries
):
    for number in range(3, 13):
        model_version(number)
    client.force_login(investigator())

    with django_assert_max_num_queries(12):
        response = client.get(LIST)

    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-version="2"' in page and 'data-version="12"' in page
    assert "0.8123" in page and "0.5521" in page  # PR-AUC, beside the rules alone
    assert "1000 / 250" in page and "60 / 14" in page
    assert "trainer" in page and "Shadow" in page
    assert "Model v1</a> is live" in page
    assert "Roll back the live model" not in page  # investigators read, officers act
    assert 'href="/models/"' in page  # the navigation's link


def test_a_version_page_carries_its_report_drift_and_changes(client, live_v1_shadow_v2):
    v1 = ModelVersion.objects.get(number=1)
    ModelDrift.objects.create(
        model_version=v1,
        window_end=timezone.now(),
        decisions=1234,
        score_psi=0.31,
        worst_input_psi=0.12,
        inputs_psi={"amount_log10": 0.12},
    )
    client.force_login(investigator())

    report = client.get("/models/v2/").content.decode()
    drift = client.get("/models/v1/").content.decode()

    assert "This version (v2)" in report and "Live when trained (v1)" in report
    assert "Rules alone" in report and "0.7702" in report and "0.64" in report
    assert "0.04211" in report and "0.944" in report  # calibration
    assert '<code>amount_log10</code></td><td class="num">43 %' in report
    assert "1234" in drift and "0.31" in drift and "shifted" in drift and "moving" in drift
    assert "Put live" in drift and "Approved" in drift  # v1's change history


def test_without_the_permission_the_pages_are_refused(client, live_v1_shadow_v2):
    assert client.get(LIST).status_code == 302  # to the login page
    client.force_login(User.objects.create_user("nobody", password="pw", is_staff=True))

    assert client.get(LIST).status_code == 403
    assert client.get("/models/v2/").status_code == 403
    client.force_login(investigator())
    assert client.get("/models/v99/").status_code == 404


def test_an_investigator_may_not_ask_and_is_told_so(client, live_v1_shadow_v2):
    client.force_login(investigator())

    response = client.post("/models/v2/go-live/", {"comment": "looks better"}, follow=True)

    assert response.status_code == 200
    assert _messages(response) == ["Only compliance officers ask for a model to go live."]
    assert not ModelChange.objects.filter(model_version__number=2).exists()


def test_one_officer_asks_another_approves_never_the_asker_nor_the_trainer(
    client, live_v1_shadow_v2
):
    # Given an officer who asks for v2 to go live, with a reason
    asker, second = officer("asker"), officer("second")
    client.force_login(asker)
    asked = client.post("/models/v2/go-live/", {"comment": "PR-AUC 0.81 vs 0.77"}, follow=True)
    change = ModelChange.objects.get(state=ModelChangeState.PENDING)
    assert change.requested_by == asker and change.comment == "PR-AUC 0.81 vs 0.77"
    assert "awaits a second compliance officer" in _messages(asked)[0]
    assert "you may withdraw it" in asked.content.decode()

    # When the asker, then the trainer, try to approve: refused, as messages, nothing changes
    own = client.post(f"/models/changes/{change.pk}/approve/", follow=True)
    assert own.status_code == 200
    assert "another compliance officer than the one who asked" in _messages(own)[0]
    client.force_login(User.objects.get(username="trainer"))
    page = client.get("/models/v2/").content.decode()
    assert "You trained this model version" in page and "Approve:" not in page
    trained = client.post(f"/models/changes/{change.pk}/approve/", follow=True)
    assert "You trained this model version" in _messages(trained)[0]
    assert _status(2) == ModelStatus.SHADOW

    # When a second officer approves: v2 is live, v1 retired and kept as what a rollback restores
    client.force_login(second)
    approved = client.post(f"/models/changes/{change.pk}/approve/", {"comment": "ok"}, follow=True)

    assert _messages(approved) == ["Approved: model v2 is live."]
    assert (_status(1), _status(2)) == (ModelStatus.RETIRED, ModelStatus.LIVE)
    change.refresh_from_db()
    assert (change.decided_by, change.decision_comment) == (second, "ok")
    again = client.post(f"/models/changes/{change.pk}/approve/", follow=True)
    assert _messages(again) == ["This change was decided already."]


def test_a_second_request_while_one_is_pending_is_refused_with_a_message(client, live_v1_shadow_v2):
    model_version(3, ModelStatus.RETIRED)
    client.force_login(officer())
    client.post("/models/v2/go-live/", follow=True)

    response = client.post("/models/v3/go-live/", follow=True)

    assert "awaiting approval" in _messages(response)[0]
    assert ModelChange.objects.filter(state=ModelChangeState.PENDING).count() == 1


def test_an_officer_rejects_and_the_asker_withdraws(client, live_v1_shadow_v2):
    asker = officer()
    change = model_live_request(version=live_v1_shadow_v2, actor=asker)
    client.force_login(investigator())
    refused = client.post(f"/models/changes/{change.pk}/reject/", follow=True)
    assert _messages(refused) == ["Only compliance officers reject model changes."]

    client.force_login(officer())
    client.post(f"/models/changes/{change.pk}/reject/", {"comment": "too few bad labels"})
    change.refresh_from_db()
    assert (change.state, change.decision_comment) == (
        ModelChangeState.REJECTED,
        "too few bad labels",
    )

    again = model_live_request(version=live_v1_shadow_v2, actor=asker)
    client.force_login(asker)
    client.post(f"/models/changes/{again.pk}/withdraw/")
    again.refresh_from_db()
    assert again.state == ModelChangeState.WITHDRAWN
    assert _status(2) == ModelStatus.SHADOW


def test_an_officer_rolls_back_at_once_and_an_investigator_may_not(client, live_v1_shadow_v2):
    v2 = live_v1_shadow_v2
    model_change_approve(change=model_live_request(version=v2, actor=officer()), approver=officer())
    client.force_login(investigator())
    refused = client.post("/models/rollback/", follow=True)
    assert _messages(refused) == ["Only compliance officers roll a model back."]
    assert _status(2) == ModelStatus.LIVE

    client.force_login(officer())
    page = client.get("/models/v2/").content.decode()
    assert "Roll back the live model" in page and "v1 is live again" in page
    response = client.post("/models/rollback/", {"comment": "scores drifted"}, follow=True)

    assert (_status(1), _status(2)) == (ModelStatus.LIVE, ModelStatus.RETIRED)
    assert "Rolled back" in _messages(response)[0]
    rollback = ModelChange.objects.get(action=ModelChangeAction.ROLLBACK)
    assert (rollback.model_version, rollback.comment) == (v2, "scores drifted")

    client.post("/models/rollback/", follow=True)  # v1 had nothing before it: none is live
    nothing = client.post("/models/rollback/", follow=True)
    assert _messages(nothing) == ["No model is live: nothing to roll back."]
    assert "No model is live" in nothing.content.decode()


def test_a_comment_too_long_does_nothing(client, live_v1_shadow_v2):
    client.force_login(officer())

    response = client.post("/models/v2/go-live/", {"comment": "x" * 2001}, follow=True)

    assert "at most 2,000 characters" in _messages(response)[0]
    assert not ModelChange.objects.filter(model_version__number=2).exists()
    assert _status(2) == ModelStatus.SHADOW

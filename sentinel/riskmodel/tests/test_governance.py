"""Four eyes on model versions, and the one-click rollback. Versions are made directly here:
their artefacts are never loaded (training has its own tests)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.utils import timezone

from rules.tests.factories import investigator, officer
from sentinel.riskmodel.choices import ModelChangeAction, ModelChangeState, ModelStatus
from sentinel.riskmodel.models import ModelChange, ModelVersion
from sentinel.riskmodel.services import (
    model_change_approve,
    model_change_reject,
    model_change_withdraw,
    model_live_request,
    model_rollback,
)
from sentinel.testing import run_concurrently

pytestmark = pytest.mark.django_db


def _version(number: int, status: str = ModelStatus.RETIRED) -> ModelVersion:
    now = timezone.now()
    return ModelVersion.objects.create(
        number=number,
        status=status,
        window_start=now - timedelta(days=30),
        holdout_start=now - timedelta(days=6),
        window_end=now,
        labels_as_of=now,
        train_rows=100,
        train_positives=10,
        holdout_rows=20,
        holdout_positives=2,
        features=["amount_log10"],
        library="lightgbm test",
        artefact="",
        artefact_sha256="",
        anomaly_artefact=b"",
        anomaly_sha256="",
    )


def _put_live(version: ModelVersion) -> ModelVersion:
    change = model_live_request(version=version, actor=officer())
    return model_change_approve(change=change, approver=officer())


def test_the_officer_who_asked_may_not_approve():
    asker = officer()
    version = _version(1, ModelStatus.SHADOW)
    change = model_live_request(version=version, actor=asker)

    with pytest.raises(PermissionDenied, match="another compliance officer"):
        model_change_approve(change=change, approver=asker)
    version.refresh_from_db()
    change.refresh_from_db()
    assert (version.status, change.state) == (ModelStatus.SHADOW, ModelChangeState.PENDING)


def test_the_database_refuses_an_approval_by_the_asker():
    asker = officer()
    change = model_live_request(version=_version(1, ModelStatus.SHADOW), actor=asker)

    with pytest.raises(IntegrityError):
        ModelChange.objects.filter(pk=change.pk).update(
            state=ModelChangeState.APPROVED, decided_by=asker, decided_at=timezone.now()
        )


def test_investigators_neither_ask_nor_approve():
    version = _version(1, ModelStatus.SHADOW)
    with pytest.raises(PermissionDenied):
        model_live_request(version=version, actor=investigator())
    change = model_live_request(version=version, actor=officer())
    with pytest.raises(PermissionDenied, match="Only compliance officers"):
        model_change_approve(change=change, approver=investigator())


def test_one_pending_change_at_a_time_and_a_decided_one_stays_decided():
    first = model_live_request(version=_version(1, ModelStatus.SHADOW), actor=officer())
    with pytest.raises(ValidationError, match="awaiting approval"):
        model_live_request(version=_version(2), actor=officer())

    model_change_reject(change=first, approver=officer())
    with pytest.raises(ValidationError, match="decided already"):
        model_change_approve(change=first, approver=officer())
    assert ModelVersion.objects.get(number=1).status == ModelStatus.SHADOW


@pytest.mark.django_db(transaction=True)
def test_two_officers_asking_at_once_for_two_versions_get_one_change_and_a_reason():
    versions = iter([_version(1, ModelStatus.SHADOW), _version(2)])
    askers = iter([officer(), officer()])
    pairs = [(next(versions), next(askers)) for _ in range(2)]
    turns = iter(pairs)
    lock = threading.Lock()

    def ask():
        with lock:
            version, actor = next(turns)
        try:
            return model_live_request(version=version, actor=actor)
        except ValidationError as error:
            return error

    results = run_concurrently(2, ask)

    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(refused) == 1
    assert all("awaiting approval" in str(error) for error in refused)
    assert ModelChange.objects.filter(state=ModelChangeState.PENDING).count() == 1


def test_only_the_asker_withdraws():
    asker = officer()
    change = model_live_request(version=_version(1, ModelStatus.SHADOW), actor=asker)
    with pytest.raises(ValidationError):
        model_change_withdraw(change=change, actor=officer())
    assert model_change_withdraw(change=change, actor=asker).state == ModelChangeState.WITHDRAWN


def test_approval_retires_the_live_version_and_rollback_restores_it_in_one_step():
    first = _put_live(_version(1, ModelStatus.SHADOW))
    second = _put_live(_version(2, ModelStatus.SHADOW))
    first.refresh_from_db()
    assert (first.status, second.status, second.replaced) == (
        ModelStatus.RETIRED,
        ModelStatus.LIVE,
        first,
    )

    restored = model_rollback(actor=officer(), comment="scores drifted")

    second.refresh_from_db()
    assert restored == first and restored.status == ModelStatus.LIVE
    assert second.status == ModelStatus.RETIRED
    rollback = ModelChange.objects.get(action=ModelChangeAction.ROLLBACK)
    assert (rollback.model_version, rollback.state) == (second, ModelChangeState.APPROVED)

    assert model_rollback(actor=officer()) is None  # the first had nothing before it
    assert not ModelVersion.objects.filter(status=ModelStatus.LIVE).exists()
    with pytest.raises(ValidationError, match="nothing to roll back"):
        model_rollback(actor=officer())


def test_rollback_takes_an_officer():
    _put_live(_version(1, ModelStatus.SHADOW))
    with pytest.raises(PermissionDenied):
        model_rollback(actor=investigator())
    assert ModelVersion.objects.get(number=1).status == ModelStatus.LIVE


def test_the_database_keeps_one_live_and_one_shadow_version():
    _version(1, ModelStatus.LIVE)
    with pytest.raises(IntegrityError):
        _version(2, ModelStatus.LIVE)

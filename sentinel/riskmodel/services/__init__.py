"""Writes of the learned risk score: snapshots, training, governance."""

from .drift import model_drift_measure
from .governance import (
    model_change_approve,
    model_change_refusal,
    model_change_reject,
    model_change_withdraw,
    model_live_request,
    model_rollback,
)
from .snapshots import decision_features_store
from .versions import model_train

__all__ = [
    "decision_features_store",
    "model_change_approve",
    "model_drift_measure",
    "model_change_refusal",
    "model_change_reject",
    "model_change_withdraw",
    "model_live_request",
    "model_rollback",
    "model_train",
]

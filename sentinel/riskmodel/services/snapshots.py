"""The decision's snapshot: what the model provider built and said, stored with the decision
(the pipeline's *decision* stage calls this for the decisions it stored)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.utils import timezone

from sentinel.db import execute_with_records
from transactions.models import Transaction

from ..provider import RECORD, ModelRecord

_INSERT = """
INSERT INTO riskmodel_decisionfeatures (
    transaction_id, partner_id, occurred_at, decided_at, schema_id, inputs, model_version_id,
    score, anomaly, contributions, shadow_version_id, shadow_score)
SELECT transaction_id, partner_id, occurred_at, decided_at, schema_id,
    ARRAY(SELECT json_array_elements_text(inputs))::real[], model_version_id, score, anomaly,
    contributions, shadow_version_id, shadow_score
FROM json_to_recordset(%s::json) AS r(
    transaction_id uuid, partner_id bigint, occurred_at timestamptz, decided_at timestamptz,
    schema_id bigint, inputs json, model_version_id bigint, score real, anomaly real,
    contributions jsonb, shadow_version_id bigint, shadow_score real)
ORDER BY transaction_id
ON CONFLICT (transaction_id) DO NOTHING
"""


def decision_features_store(
    *, transactions: Sequence[Transaction], fields: Sequence[Mapping[str, object]], stored: set
) -> int:
    """Store the snapshot of each transaction whose decision was just stored (``stored``:
    their ids); ``fields`` are the providers' values in the batch's order. Transactions
    without a record (the provider is not configured, or failed) are left out. How many."""
    now = timezone.now()
    records = []
    for tx, values in zip(transactions, fields, strict=True):
        record = values.get(RECORD)
        if tx.id not in stored or not isinstance(record, ModelRecord):
            continue
        records.append(
            {
                "transaction_id": tx.id,
                "partner_id": tx.partner_id,
                "occurred_at": tx.occurred_at,
                "decided_at": now,
                "schema_id": record.schema_id,
                # A missing input (NaN) is sent as null (sentinel.db), stored as NULL.
                "inputs": record.inputs,
                "model_version_id": record.version_id,
                "score": record.score,
                "anomaly": record.anomaly,
                "contributions": record.contributions,
                "shadow_version_id": record.shadow_version_id,
                "shadow_score": record.shadow_score,
            }
        )
    if records:
        execute_with_records(_INSERT, records)
    return len(records)

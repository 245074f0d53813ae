"""Writes of the transactions app, one module per concern; import them from here.

- ``partners``: partner banks and their API keys.
- ``ingest``: validating and storing accepted transactions, exactly once.
- ``profiles``: claiming accepted transactions and folding them into account profiles.
- ``labels``: what transactions turned out to be (partner feedback, cases, alerts).
- ``rates``: importing exchange rates (the ECB's reference rates).
"""

from .ingest import IngestResult, transaction_build, transaction_ingest, transactions_ingest
from .labels import LabelResult, transaction_feedback_record, transaction_labels_record
from .partners import api_key_create, api_key_revoke, partner_create
from .profiles import (
    PROFILE_TOP_N,
    account_profile_change_approve,
    account_profile_change_reject,
    account_profile_update,
    account_profiles_fold,
    transactions_claim_unprofiled,
)
from .rates import RateFileError, RateImport, exchange_rates_import

__all__ = [
    "PROFILE_TOP_N",
    "IngestResult",
    "LabelResult",
    "RateFileError",
    "RateImport",
    "account_profile_change_approve",
    "account_profile_change_reject",
    "account_profile_update",
    "account_profiles_fold",
    "api_key_create",
    "api_key_revoke",
    "exchange_rates_import",
    "partner_create",
    "transaction_build",
    "transaction_feedback_record",
    "transaction_ingest",
    "transaction_labels_record",
    "transactions_claim_unprofiled",
    "transactions_ingest",
]

"""The account profile's fields: what the customer's account usually does (transactions app)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from transactions.choices import RiskRating

from .base import FeatureBatch, FeatureField, FeatureProvider

NUMBER, STRING, LIST = "number", "string", "list"
_COUNT_DOC = "transactions seen on the customer's account so far"
_COUNTRIES_DOC = "counterparty countries usually seen on the account"


class ProfileFeatures(FeatureProvider):
    """Read from the profile the *profile* stage just folded (or the Redis copy in a request):
    no I/O of its own."""

    name = "profile"
    fields = (
        FeatureField(
            "profile.transaction_count",
            NUMBER,
            "transactions seen on the customer's account so far",
        ),
        FeatureField(
            "profile.counterparty_count",
            NUMBER,
            "distinct counterparties the account has ever dealt with, either way",
        ),
        FeatureField(
            "profile.days_since_first_seen", NUMBER, "days since the account was first seen"
        ),
        FeatureField(
            "profile.single_transaction_limit",
            NUMBER,
            "the account's single-transaction limit (may be empty)",
        ),
        FeatureField("profile.daily_limit", NUMBER, "the account's daily limit (may be empty)"),
        FeatureField(
            "profile.smallest_amount",
            NUMBER,
            "the smallest approved amount the account ever moved in the transaction's "
            "currency, either way (empty: none yet)",
        ),
        FeatureField(
            "profile.largest_amount",
            NUMBER,
            "the largest approved amount the account ever moved in the transaction's "
            "currency, either way (empty: none yet)",
        ),
        FeatureField(
            "profile.risk_rating",
            STRING,
            "the customer's risk rating: low, medium or high",
            choices=tuple(RiskRating.values),
        ),
        FeatureField(
            "profile.countries", LIST, "counterparty countries usually seen on the account"
        ),
        FeatureField("profile.devices", LIST, "devices usually seen on the account"),
    )
    needs = frozenset({"profile"})
    in_request = True
    budget_us = 10

    def values(self, batch: FeatureBatch) -> list[dict[str, object]]:
        return [
            profile_fields(batch.profile_of(tx), tx.occurred_at, tx.currency)
            for tx in batch.transactions
        ]


def profile_fields(profile: dict | None, occurred_at: datetime, currency: str) -> dict[str, object]:
    """The profile's fields for a transaction at ``occurred_at`` in ``currency`` (an unknown
    account: empty)."""
    if profile is None:
        return {
            "profile.transaction_count": Decimal(0),
            "profile.counterparty_count": Decimal(0),
            "profile.days_since_first_seen": Decimal(0),
            "profile.risk_rating": "low",
            "profile.single_transaction_limit": None,
            "profile.daily_limit": None,
            "profile.smallest_amount": None,
            "profile.largest_amount": None,
            "profile.countries": frozenset(),
            "profile.devices": frozenset(),
        }
    first_seen = datetime.fromisoformat(profile["first_seen_at"])
    days = max(0.0, (occurred_at - first_seen).total_seconds() / 86400)
    return {
        "profile.transaction_count": Decimal(profile["transaction_count"]),
        # A copy cached before the count existed has none: unknown until its next fold.
        "profile.counterparty_count": _decimal(profile.get("counterparty_count")),
        "profile.days_since_first_seen": Decimal(f"{days:.4f}"),
        "profile.risk_rating": profile["risk_rating"],
        "profile.single_transaction_limit": _decimal(profile["single_transaction_limit"]),
        "profile.daily_limit": _decimal(profile["daily_limit"]),
        **_amount_range(profile["activity"], currency),
        "profile.countries": frozenset(profile["countries"]),
        "profile.devices": frozenset(profile["devices"]),
    }


def _amount_range(activity: dict, currency: str) -> dict[str, Decimal | None]:
    """The smallest and largest amounts of the activity buckets in ``currency``
    ("direction:type:currency"); a bucket folded before they were kept has neither."""
    suffix = f":{currency}"
    mins = [Decimal(b["min"]) for k, b in activity.items() if k.endswith(suffix) and "min" in b]
    maxes = [Decimal(b["max"]) for k, b in activity.items() if k.endswith(suffix) and "max" in b]
    return {
        "profile.smallest_amount": min(mins, default=None),
        "profile.largest_amount": max(maxes, default=None),
    }


def _decimal(value: str | int | None) -> Decimal | None:
    return None if value is None else Decimal(value)

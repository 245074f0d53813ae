"""The model's explanation in words: its top contributing features (Tree SHAP values stored
with the decision) as an investigator reads them on the alert and case pages."""

from __future__ import annotations

from dataclasses import dataclass

from .inputs import LOGGED

READABLE = {
    "amount_log10": "amount",
    "hour": "hour of day",
    "weekday": "day of week (0 Monday)",
    "type": "transaction type",
    "inbound": "money coming in",
    "channel": "channel",
    "declined": "declined or failed",
    "cross_border": "counterparty in another country",
    "round_thousand": "round amount in thousands",
    "own_account": "between the customer's own accounts",
    "profile.transaction_count": "transactions seen on the account",
    "profile.counterparty_count": "counterparties the account has ever dealt with",
    "profile.smallest_amount": "smallest amount the account ever moved",
    "profile.largest_amount": "largest amount the account ever moved",
    "profile.days_since_first_seen": "days since the account was first seen",
    "profile.risk_rating": "customer risk rating (0 low, 2 high)",
    "profile.amount_over_limit": "amount over the single-transaction limit",
    "profile.new_country": "counterparty country new for the account",
    "profile.new_device": "device new for the account",
    "account.count_1h": "transactions on the account in 1 h",
    "account.count_24h": "transactions on the account in 24 h",
    "account.count_7d": "transactions on the account in 7 days",
    "account.in_sum_24h": "received in 24 h",
    "account.out_sum_24h": "sent in 24 h",
    "account.senders_48h": "different senders in 48 h",
    "account.new_payees_24h": "new payees in 24 h",
    "account.declined_1h": "declined payments in 1 h",
    "account.days_since_previous": "days since the previous transaction",
    "account.count_30d": "transactions on the account in 30 days",
    "account.in_count_30d": "payments received in 30 days",
    "account.senders_30d": "different senders in 30 days",
    "account.payees_30d": "different payees in 30 days",
    "account.in_sum_30d": "received in 30 days",
    "account.out_sum_30d": "sent in 30 days",
    "account.largest_30d": "largest amount in 30 days",
    "account.smallest_30d": "smallest amount in 30 days",
    "counterparty.count_30d": "the counterparty's transactions in 30 days, with anyone",
}
# account.in_sum_24h: logged in the snapshots of earlier schemas, still explained.
_LOG_AMOUNTS = frozenset(
    {
        "amount_log10",
        "profile.smallest_amount",
        "profile.largest_amount",
        "account.in_sum_24h",
        *LOGGED,
    }
)
_YES_NO = frozenset(
    {
        "inbound",
        "declined",
        "cross_border",
        "round_thousand",
        "own_account",
        "profile.new_country",
        "profile.new_device",
    }
)


@dataclass(frozen=True)
class Reason:
    """One contributing feature: what it is, its value, and which way it pushed the score."""

    feature: str
    value: str
    raises: bool
    weight: float  # the SHAP value, in log-odds

    def __str__(self) -> str:
        arrow = "raised" if self.raises else "lowered"
        return f"{self.feature} = {self.value} ({arrow} the score by {abs(self.weight):.2f})"


def reasons(contributions: list) -> list[Reason]:
    """The stored ``[name, value, SHAP]`` triples in words, largest first."""
    return [
        Reason(READABLE.get(name, name), _value(name, value), shap > 0, shap)
        for name, value, shap in contributions
    ]


def _value(name: str, value: float | None) -> str:
    if value is None:
        return "none"
    if name in _YES_NO:
        return "yes" if value >= 0.5 else "no"
    if name in _LOG_AMOUNTS:  # kept as log10(1 + x) in a 4-byte float: whole units
        return f"{10**value - 1:,.0f}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"

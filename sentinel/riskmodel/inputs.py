"""What a model reads about a transaction: one row of numbers, built from the transaction and
what the other feature providers gave it at decision time.

The row is the point-in-time snapshot (``DecisionFeatures.inputs``): built once in the
*features* stage, stored with the decision, and read back as it was for training. Missing
values are NaN, which gradient-boosted trees route on their own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from rules.aggregates import AggregateSpec
from rules.expressions import language
from rules.features import providers
from transactions.choices import Channel, Direction, RiskRating, TransactionStatus, TransactionType
from transactions.models import Transaction

NAN = float("nan")
_HOUR, _DAY, _MONTH = 3600, 86400, 30 * 86400
_IN, _OUT = frozenset({Direction.INBOUND}), frozenset({Direction.OUTBOUND})

# Rolling aggregates of the customer's account the model reads whatever the rules ask
# (computed in the aggregates provider's one Redis call: FeatureProvider.aggregates).
AGGREGATES: dict[str, AggregateSpec] = {
    "account.count_1h": AggregateSpec("count", "account", _HOUR),
    "account.count_7d": AggregateSpec("count", "account", 7 * _DAY),
    "account.out_sum_24h": AggregateSpec("sum", "account", _DAY, directions=_OUT),
    "account.declined_1h": AggregateSpec(
        "count",
        "account",
        _HOUR,
        statuses=frozenset({TransactionStatus.DENIED, TransactionStatus.FAILED}),
    ),
    "account.days_since_previous": AggregateSpec("days_since_previous", "account"),
    # The month: how wide the account's dealings are (a mule's, a funnel's, a layer's) and
    # the range of what it moves, and how busy its counterparty is with everyone else.
    "account.count_30d": AggregateSpec("count", "account", _MONTH),
    "account.in_count_30d": AggregateSpec("count", "account", _MONTH, directions=_IN),
    "account.payees_30d": AggregateSpec(
        "distinct", "account", _MONTH, field="counterparty", directions=_OUT
    ),
    "account.in_sum_30d": AggregateSpec("sum", "account", _MONTH, directions=_IN),
    "account.out_sum_30d": AggregateSpec("sum", "account", _MONTH, directions=_OUT),
    "account.largest_30d": AggregateSpec("max", "account", _MONTH),
    "account.smallest_30d": AggregateSpec("min", "account", _MONTH),
    "counterparty.count_30d": AggregateSpec("count", "counterparty", _MONTH),
}
# Left out since schema 2026-12 (docs/models.md § Inputs): account.count_24h, in_sum_24h,
# senders_48h, senders_30d and new_payees_24h. Each gave the trees under 0.5 % of their gain
# on both the demo and AMLSim (other inputs carry the same), and each cost every transaction
# scored a Redis read and a decoded value. Models of earlier schemas read them as missing.
# Amounts are spread over orders of magnitude: the model reads log10(1 + x).
LOGGED = frozenset(
    {
        "account.out_sum_24h",
        "account.in_sum_30d",
        "account.out_sum_30d",
        "account.largest_30d",
        "account.smallest_30d",
    }
)

_TYPES = {value: index for index, value in enumerate(TransactionType.values)}
_CHANNELS = {value: index for index, value in enumerate(Channel.values)}
_RISK = {value: index for index, value in enumerate(RiskRating.values)}

OWN = (
    "amount_log10",
    "hour",
    "weekday",
    "type",
    "inbound",
    "channel",
    "declined",
    "cross_border",
    "round_thousand",
    "own_account",
    "profile.transaction_count",
    "profile.counterparty_count",
    "profile.smallest_amount",
    "profile.largest_amount",
    "profile.days_since_first_seen",
    "profile.risk_rating",
    "profile.amount_over_limit",
    "profile.new_country",
    "profile.new_device",
)
# Categorical inputs (codes above): the trees split them by category, not by order.
CATEGORICAL = ("type", "channel")
# Families whose numbers the model does not read: itself, and the profile (read above).
_NOT_READ = frozenset({"model", "profile", "aggregates"})


def provider_inputs() -> tuple[str, ...]:
    """The number and yes/no fields of the other configured providers (network, screening...):
    a model reads every detection family there is."""
    return tuple(
        sorted(
            feature.name
            for provider in providers()
            if provider.name not in _NOT_READ
            for feature in provider.fields
            if feature.type in (language.NUMBER, language.BOOL)
        )
    )


def input_names(extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The row's column names, in order."""
    return (*OWN, *AGGREGATES, *extra)


def inputs_of(
    tx: Transaction,
    fields: Mapping[str, object],
    aggregates: Mapping[AggregateSpec, object],
    extra: Sequence[str] = (),
) -> list[float]:
    """One transaction's row: its own fields, the profile's as the profile stage gave them,
    the model's aggregates and the other providers' numbers (``extra``).

    It runs for every transaction scored (about 6 us on the Xeon box): plain branches and
    local names rather than helpers per column, ``_number``'s rules inlined where the value's
    type is known."""
    amount = float(tx.amount)
    if tx.direction == Direction.OUTBOUND:
        country, counterparty_country = tx.originator_country, tx.beneficiary_country
        own, other = tx.originator_customer_id, tx.beneficiary_customer_id
    else:
        country, counterparty_country = tx.beneficiary_country, tx.originator_country
        own, other = tx.beneficiary_customer_id, tx.originator_customer_id
    get = fields.get
    limit = get("profile.single_transaction_limit")
    countries, devices = get("profile.countries"), get("profile.devices")
    # The profile's numbers are ints and Decimals or None (the profile stage's own values).
    transactions = get("profile.transaction_count")
    counterparties = get("profile.counterparty_count")
    smallest, largest = get("profile.smallest_amount"), get("profile.largest_amount")
    first_seen = get("profile.days_since_first_seen")
    occurred_at = tx.occurred_at
    row = [
        math.log10(1 + amount),
        float(occurred_at.hour),
        float(occurred_at.weekday()),
        float(_TYPES.get(tx.type, -1)),
        1.0 if tx.direction == Direction.INBOUND else 0.0,
        float(_CHANNELS.get(tx.channel, -1)) if tx.channel else NAN,
        1.0 if tx.status in _DECLINED else 0.0,
        1.0 if country and counterparty_country and country != counterparty_country else 0.0,
        1.0 if amount >= 1000 and amount % 1000 == 0 else 0.0,
        1.0 if other and other == own else 0.0,
        NAN if transactions is None else float(transactions),
        NAN if counterparties is None else float(counterparties),
        NAN if smallest is None else _logged(float(smallest)),
        NAN if largest is None else _logged(float(largest)),
        NAN if first_seen is None else float(first_seen),
        float(_RISK.get(get("profile.risk_rating"), -1)),
        amount / float(limit) if limit else NAN,
        NAN
        if countries is None or not counterparty_country
        else (1.0 if counterparty_country not in countries else 0.0),
        NAN
        if devices is None or not tx.device_id
        else (1.0 if tx.device_id not in devices else 0.0),
    ]
    # Aggregate values are None, an int (counts) or a Decimal (amounts, days): float() is
    # _number for them. One comprehension: this runs for every transaction scored.
    value_of = aggregates.get
    row += [
        NAN
        if (value := value_of(spec)) is None
        else (_logged(float(value)) if logged else float(value))
        for spec, logged in _AGGREGATE_COLUMNS
    ]
    if extra:  # numbers and yes/no (bool is an int): float() unless a provider sent junk
        try:
            row += [NAN if (value := get(name)) is None else float(value) for name in extra]
        except (TypeError, ValueError):
            row += [_number(get(name)) for name in extra]
    return row


# The aggregates' columns in order, and whether each is read as a log: the loop above runs
# for every transaction scored.
_AGGREGATE_COLUMNS = tuple((spec, name in LOGGED) for name, spec in AGGREGATES.items())
_DECLINED = frozenset({TransactionStatus.DENIED, TransactionStatus.FAILED})


def _logged(value: float) -> float:
    return math.log10(1 + value) if value == value and value >= 0 else NAN


def _number(value: object) -> float:
    if value is None:
        return NAN
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        return NAN

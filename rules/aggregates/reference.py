"""The aggregates computed from PostgreSQL: the reference the Redis store must agree with.

Used by tests and back-testing tools, never by scoring (it costs a query per value). Same
semantics as the store, computed independently: SQL selects the key's transactions (the
normalised-name match of a counterparty is checked in Python), Python does Decimal arithmetic.
History is unbounded here, whereas Redis forgets what is older than its retention, so
``days_since_previous`` may differ across gaps longer than retention + margin.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from django.db.models import Q, QuerySet

from transactions.choices import Direction
from transactions.models import Transaction
from transactions.money import minor_units

from .events import (
    EVENT_FIELDS,
    NAME_MARK,
    AggregateEvent,
    epoch_ms,
    event_from_transaction,
    from_epoch_ms,
)
from .specs import BASE_AMOUNT, AggregateSpec, CurrencyFigures
from .store import retention_days

_DAY_MS = Decimal(86_400_000)


def aggregate_from_sql(spec: AggregateSpec, tx: Transaction) -> object:
    """The value of ``spec`` for ``tx`` (stored or not; it always counts itself if it matches)."""
    scored = event_from_transaction(tx)
    value = scored.keys.get(spec.by)
    if value is None:
        return None
    t = epoch_ms(tx.occurred_at)
    rows = (
        Transaction.objects.filter(partner_id=tx.partner_id)
        .filter(_key_filter(spec.by, value), _filters(spec))
        .exclude(pk=tx.pk)
        .only(*EVENT_FIELDS)
    )
    if spec.function == "days_since_previous":
        return _days_since_previous(spec, value, t, rows)

    lookback = retention_days() * 86_400_000
    window = spec.within_seconds * 1000 if spec.within_seconds else lookback
    reach = lookback if spec.function == "new_counterparties" else window
    # Event times count in whole milliseconds: floor(ms) in (t - reach, t].
    rows = rows.filter(
        occurred_at__gte=from_epoch_ms(t - reach + 1), occurred_at__lt=from_epoch_ms(t + 1)
    )
    history = [
        event for event in map(event_from_transaction, rows) if event.keys.get(spec.by) == value
    ]
    if _matches(spec, scored):
        history.append(scored)
    recent = [event for event in history if epoch_ms(event.occurred_at) > t - window]

    if spec.function == "count":
        return len(recent)
    if spec.function == "distinct":
        return len({getattr(event, spec.field) for event in recent} - {""})
    if spec.function == "new_counterparties":
        return _new_counterparties(history, t - window)
    if spec.field == BASE_AMOUNT:
        return _figures(spec.function, recent)
    return _amount_function(spec.function, recent, scored.currency)


def _figures(function: str, events: list[AggregateEvent]) -> CurrencyFigures:
    """Per currency, its sum and count (or its max or min): amount_base before conversion."""
    by_currency: dict[str, list[Decimal]] = {}
    for event in events:
        by_currency.setdefault(event.currency, []).append(event.amount)
    figures = {}
    for currency, amounts in by_currency.items():
        quantum = Decimal(1).scaleb(-minor_units(currency))
        if function in ("sum", "avg"):
            figure = sum(amounts, Decimal(0))
        else:
            figure = max(amounts) if function == "max" else min(amounts)
        figures[currency] = (
            figure.quantize(quantum),
            len(amounts) if function in ("sum", "avg") else 1,
        )
    return CurrencyFigures(function, figures)


def _amount_function(function: str, events: list[AggregateEvent], currency: str) -> object:
    quantum = Decimal(1).scaleb(-minor_units(currency))
    amounts = [event.amount for event in events if event.currency == currency]
    with localcontext() as context:
        context.prec = 60
        if function == "sum":
            return sum(amounts, Decimal(0)).quantize(quantum)
        if not amounts:
            return None
        if function == "avg":
            return (sum(amounts, Decimal(0)) / len(amounts)).quantize(quantum, ROUND_HALF_EVEN)
        return (max(amounts) if function == "max" else min(amounts)).quantize(quantum)


def _new_counterparties(history: list[AggregateEvent], window_start_ms: int) -> int:
    first_seen: dict[str, int] = {}
    for event in history:
        if event.counterparty:
            moment = epoch_ms(event.occurred_at)
            first_seen[event.counterparty] = min(moment, first_seen.get(event.counterparty, moment))
    return sum(1 for moment in first_seen.values() if moment > window_start_ms)


def _days_since_previous(spec: AggregateSpec, value: str, t: int, rows: QuerySet) -> object:
    earlier = rows.filter(occurred_at__lt=from_epoch_ms(t)).order_by("-occurred_at")
    for row in earlier.iterator(chunk_size=200):
        if event_from_transaction(row).keys.get(spec.by) == value:
            days = Decimal(t - epoch_ms(row.occurred_at)) / _DAY_MS
            return days.quantize(Decimal("0.0001"), ROUND_HALF_EVEN)
    return None


def _key_filter(kind: str, value: str) -> Q:
    """Rows that may belong to the key (exact for every kind but name-only counterparties)."""
    outbound, inbound = Q(direction=Direction.OUTBOUND), Q(direction=Direction.INBOUND)
    if kind in ("account", "customer"):
        column = f"{kind}_id"
        return (outbound & Q(**{f"originator_{column}": value})) | (
            inbound & Q(**{f"beneficiary_{column}": value})
        )
    if kind == "device":
        return Q(device_id=value)
    if kind == "ip":
        return Q(ip_address=value)
    if value.startswith(NAME_MARK):
        return (outbound & Q(beneficiary_account_id="") & ~Q(beneficiary_name="")) | (
            inbound & Q(originator_account_id="") & ~Q(originator_name="")
        )
    return (outbound & Q(beneficiary_account_id=value)) | (inbound & Q(originator_account_id=value))


def _filters(spec: AggregateSpec) -> Q:
    condition = Q()
    for column, values in (
        ("type", spec.types),
        ("direction", spec.directions),
        ("status", spec.statuses),
        ("channel", spec.channels),
    ):
        if values:
            condition &= Q(**{f"{column}__in": sorted(values)})
    return condition


def _matches(spec: AggregateSpec, event: AggregateEvent) -> bool:
    return all(
        not allowed or value in allowed
        for allowed, value in (
            (spec.types, event.type),
            (spec.directions, event.direction),
            (spec.statuses, event.status),
            (spec.channels, event.channel),
        )
    )

"""What the aggregates know of a transaction: its keys and the fields the functions read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from transactions.models import Transaction

from ..lists import fold

# The columns ``event_from_transaction`` reads: bulk readers load only these.
EVENT_FIELDS = (
    "id",
    "partner_id",
    "occurred_at",
    "amount",
    "currency",
    "type",
    "direction",
    "status",
    "channel",
    "device_id",
    "ip_address",
    *(
        f"{side}_{name}"
        for side in ("originator", "beneficiary")
        for name in ("account_id", "customer_id", "name", "country")
    ),
)
# A counterparty known only by name is "~" + its normalised name: account ids cannot contain
# "~" (ingest contract), so the two never collide.
NAME_MARK = "~"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


@dataclass(frozen=True)
class AggregateEvent:
    """What the store needs to know about one transaction, built from a stored Transaction."""

    id: str
    partner_id: int
    occurred_at: datetime
    amount: Decimal
    currency: str
    type: str
    direction: str
    status: str
    channel: str
    keys: dict[str, str] = field(default_factory=dict)  # kind -> value, only the kinds present
    counterparty: str = ""
    counterparty_country: str = ""
    device: str = ""
    ip: str = ""


def event_from_transaction(tx: Transaction) -> AggregateEvent:
    own, other = tx.customer_side, tx.counterparty_side
    counterparty = counterparty_key(
        getattr(tx, f"{other}_account_id"), getattr(tx, f"{other}_name")
    )
    device = tx.device_id or ""
    ip = str(tx.ip_address) if tx.ip_address else ""
    keys = {
        "account": getattr(tx, f"{own}_account_id"),
        "customer": getattr(tx, f"{own}_customer_id"),
        "counterparty": counterparty,
        "device": device,
        "ip": ip,
    }
    return AggregateEvent(
        id=str(tx.id),
        partner_id=tx.partner_id,
        occurred_at=tx.occurred_at,
        amount=tx.amount,
        currency=tx.currency,
        type=tx.type,
        direction=tx.direction,
        status=tx.status,
        channel=tx.channel or "",
        keys={kind: value for kind, value in keys.items() if value},
        counterparty=counterparty,
        counterparty_country=getattr(tx, f"{other}_country") or "",
        device=device,
        ip=ip,
    )


def counterparty_key(account_id: str, name: str) -> str:
    """The counterparty's account id, else its marked normalised name, else ''."""
    if account_id:
        return account_id
    normalised = normalise_name(name or "")
    return f"{NAME_MARK}{normalised}" if normalised else ""


def normalise_name(name: str) -> str:
    """'  José   DA Silva ' -> 'jose da silva': folded (rules.lists.fold), spaces collapsed.
    Word order counts here, unlike list matching: it tells two counterparties apart."""
    return " ".join(fold(name).split())


def epoch_ms(moment: datetime) -> int:
    """Event time as the store keeps it: whole milliseconds since the epoch (floored)."""
    return (moment - _EPOCH) // _MILLISECOND


def from_epoch_ms(milliseconds: int) -> datetime:
    return _EPOCH + milliseconds * _MILLISECOND

"""The Redis store of the rolling aggregates: record events, compute specs, rebuild from SQL.

One sorted set per (partner, key kind, key value): score = occurred_at in epoch milliseconds,
member = the event's fields joined by "\\x1f" (see ``_member``). All the work happens in one Lua
script (``store.lua``) per call, so a batch costs one round trip whatever its size, unless its
reads would block Redis too long (see ``read_budget``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db.models import Case, F, When
from django.utils import timezone

from sentinel.redis import get_redis, redis_key
from transactions.choices import Direction
from transactions.models import Transaction
from transactions.money import minor_units

from . import paged
from .events import EVENT_FIELDS, AggregateEvent, epoch_ms, event_from_transaction
from .specs import (
    AMOUNT_FUNCTIONS,
    BASE_AMOUNT,
    FUNCTIONS,
    KEY_KINDS,
    MAX_WINDOW_SECONDS,
    AggregateSpec,
    CurrencyFigures,
)

# Sets live this long after their last write: a key idle for longer forgets its last event, so
# days_since_previous cannot exceed retention + margin...
EXPIRE_MARGIN_DAYS = 7
# ...except an account's or a customer's: dormancy rules ask how long they were silent, so their
# sets outlive a long silence (a year and more; idle sets hold at most retention's events).
DORMANCY_MEMORY_DAYS = 400
_LONG_LIVED_KINDS = frozenset({"account", "customer"})
REBUILD_CHUNK = 1000
# Events one call records at most: recording costs Redis a handful of commands per event and
# key kind (ZADD, the trim's ZCOUNT, EXPIRE), about 40 ms for 1,000 events on this box, and the
# script blocks Redis while it runs. Larger batches record in several calls, then compute.
RECORD_CHUNK = 250
# Members a record-and-compute call may read before it computes in parts (see read_budget).
READ_BUDGET = 5_000
# Bump when the member layout changes (and run rebuild_aggregates).
FORMAT = "v1"
SEPARATOR = "\x1f"
# One-letter codes keep members short (a sorted set stays in Redis' compact listpack encoding
# while its members are at most 64 bytes). Never reassign a letter; a value missing here is
# stored as itself, which cannot clash with a one-letter code.
CODES = {
    "type": {
        "transfer": "t",
        "wire": "w",
        "ach": "a",
        "p2p": "p",
        "card_payment": "c",
        "cash_deposit": "d",
        "cash_withdrawal": "x",
        "refund": "r",
    },
    "direction": {"outbound": "o", "inbound": "i"},
    "status": {"approved": "a", "failed": "f", "denied": "d", "reversed": "r"},
    "channel": {
        "web": "w",
        "mobile": "m",
        "branch": "b",
        "atm": "a",
        "pos": "p",
        "api": "i",
        "other": "o",
    },
}
# Where each distinct field sits in a member (1-based, as Lua counts).
_FIELD_POSITIONS = {"counterparty": 8, "counterparty_country": 9, "device": 10, "ip": 11}
_COUNTS = frozenset({"count", "distinct", "new_counterparties"})
_SHORT = 8  # longer values are stored as "#" + a 48-bit digest: they are only ever compared


def _ttl_seconds(kind: str) -> int:
    days = retention_days() + EXPIRE_MARGIN_DAYS
    if kind in _LONG_LIVED_KINDS:
        days = max(days, DORMANCY_MEMORY_DAYS)
    return days * 86_400


def read_budget() -> int:
    """The most members one record-and-compute call reads before it computes in parts.

    Computing costs Redis several microseconds per member read (fetching, parsing, sweeping;
    measured by bench/hotkeys.py), and the script blocks Redis while it runs: a batch touching
    hundreds of keys with hundreds of members each would block it for a second or more.
    """
    return int(getattr(settings, "SENTINEL_AGGREGATE_READ_BUDGET", READ_BUDGET))


def retention_days() -> int:
    """Days of history kept per key; never less than the longest window."""
    configured = getattr(settings, "SENTINEL_AGGREGATE_RETENTION_DAYS", 35)
    return max(int(configured), -(-MAX_WINDOW_SECONDS // 86400))


# --- Public API ------------------------------------------------------------------------------


def aggregates_record(events: Sequence[AggregateEvent]) -> None:
    """Add the events to their keys (idempotent) and trim what is past retention."""
    for start in range(0, len(events), RECORD_CHUNK):
        _run(events[start : start + RECORD_CHUNK], (), "record")


def aggregates_compute(
    events: Sequence[AggregateEvent], specs: Collection[AggregateSpec]
) -> list[dict[AggregateSpec, object]]:
    """Every spec's value for each (already recorded) event, in one round trip."""
    return _results(events, tuple(specs), "compute")


def aggregates_record_and_compute(
    events: Sequence[AggregateEvent],
    specs: Collection[AggregateSpec],
    *,
    wanted: Sequence[Collection[AggregateSpec]] | None = None,
) -> list[dict[AggregateSpec, object]]:
    """Record the events, then compute every spec for each, in one atomic round trip mostly.

    All the events are recorded before any is computed, so those of one batch see each other.
    More than ``RECORD_CHUNK`` events are recorded in several calls first. When computing would
    read more than ``read_budget()`` members (busy keys), the call only records, and the values
    are computed in several smaller calls (see ``_compute_in_parts``).
    ``wanted``, one collection per event, limits what is computed for it (the specs of the
    rules in its scope); its results then hold only those specs.
    """
    return _results(events, tuple(specs), "both", wanted)


def aggregates_preview(
    events: Sequence[AggregateEvent], specs: Collection[AggregateSpec]
) -> list[dict[AggregateSpec, object]]:
    """The values as if the events were recorded, leaving the store unchanged ("try it")."""
    return _results(events, tuple(specs), "preview")


def aggregates_drop(*, partner_id: int | None = None) -> int:
    """Delete the sets (of one partner, or all); how many were deleted."""
    redis = get_redis()
    pattern = _key_prefix() + ("*" if partner_id is None else f"{partner_id}:*")
    dropped = 0
    batch: list[bytes] = []
    for key in redis.scan_iter(match=pattern, count=1000):
        batch.append(key)
        if len(batch) == 500:
            dropped += redis.unlink(*batch)
            batch = []
    if batch:
        dropped += redis.unlink(*batch)
    return dropped


def aggregates_rebuild(*, partner_id: int | None = None, since: datetime | None = None) -> int:
    """Drop the sets and record again every stored transaction since ``since`` (default:
    retention + margin ago); returns how many were recorded.

    Streams rows through a server-side cursor, in event-time order per partner so trimming
    behaves as it does live. Traffic scored while it runs is recorded too (recording is
    idempotent), but scores computed during the rebuild see partial history.
    """
    if since is None:
        since = timezone.now() - timedelta(days=retention_days() + EXPIRE_MARGIN_DAYS)
    aggregates_drop(partner_id=partner_id)
    stored = Transaction.objects.all()
    if partner_id is not None:
        stored = stored.filter(partner_id=partner_id)
    # Each account's last transaction before the range first, so a dormancy rule still sees
    # how long the account was silent; then the range, in event-time order.
    last_before = [tx.pk for tx in _last_before(stored, since)]
    recorded = 0
    for rows in (
        stored.filter(pk__in=last_before).order_by("occurred_at", "id"),
        stored.filter(occurred_at__gte=since).order_by("partner_id", "occurred_at", "id"),
    ):
        for chunk in _chunks(
            rows.only(*EVENT_FIELDS).iterator(chunk_size=REBUILD_CHUNK), REBUILD_CHUNK
        ):
            aggregates_record([event_from_transaction(tx) for tx in chunk])
            recorded += len(chunk)
    return recorded


def _last_before(stored, since: datetime):
    """The latest transaction of each customer-side account in the dormancy look-back before
    ``since`` (ids only)."""
    side_account = Case(
        When(direction=Direction.OUTBOUND, then=F("originator_account_id")),
        default=F("beneficiary_account_id"),
    )
    return (
        stored.filter(
            occurred_at__lt=since,
            occurred_at__gte=since - timedelta(days=DORMANCY_MEMORY_DAYS),
        )
        .annotate(side_account=side_account)
        .order_by("partner_id", "side_account", "-occurred_at", "-id")
        .distinct("partner_id", "side_account")
        .only("id")
    )


# --- Encoding --------------------------------------------------------------------------------


def set_key(partner_id: int, kind: str, value: str) -> str:
    return f"{_key_prefix()}{partner_id}:{kind}:{value}"


def _key_prefix() -> str:
    return redis_key("agg", FORMAT, "")


def to_minor(amount: Decimal, currency: str) -> int:
    """Integer amount in the currency's minor units (ingest guarantees no finer precision)."""
    return int(amount.scaleb(minor_units(currency)).to_integral_value())


def _member(event: AggregateEvent) -> str:
    """The compact member: short id first (so re-recording the same transaction is a no-op)."""
    return SEPARATOR.join(
        (
            _digest(event.id, 8),
            str(to_minor(event.amount, event.currency)),
            _clean(event.currency),
            _code("type", event.type),
            _code("direction", event.direction),
            _code("status", event.status),
            _code("channel", event.channel),
            _compact(event.counterparty),
            _clean(event.counterparty_country),
            _compact(event.device),
            _compact(event.ip),
        )
    )


def _code(name: str, value: str) -> str:
    return CODES[name].get(value) or _clean(value)


def _clean(value: str) -> str:
    return value.replace(SEPARATOR, "")


def _compact(value: str) -> str:
    value = _clean(value)
    return value if len(value) <= _SHORT else "#" + _digest(value, 6)


def _digest(value: str, size: int) -> str:
    digest = hashlib.blake2b(value.encode(), digest_size=size).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@cache
def _spec_row(spec: AggregateSpec, lookback_ms: int) -> list:
    """The spec as the script reads it: [function, kind, range, window, field, filters...]."""
    if spec.function not in FUNCTIONS or spec.by not in KEY_KINDS:
        raise ValueError(f"unknown aggregate {spec.function!r} by {spec.by!r}")
    if spec.function == "distinct" and spec.field not in _FIELD_POSITIONS:
        raise ValueError(f"distinct cannot count {spec.field!r}")
    if spec.function in AMOUNT_FUNCTIONS and spec.field not in (None, BASE_AMOUNT):
        raise ValueError(f"{spec.function} cannot add up {spec.field!r}")
    window = spec.within_seconds * 1000 if spec.within_seconds else lookback_ms
    if spec.function == "days_since_previous":
        reach = window = 0
    elif spec.function == "new_counterparties":
        reach = lookback_ms
    else:
        reach = window
    position = _FIELD_POSITIONS[spec.field] if spec.function == "distinct" else 0
    return [
        spec.function,
        KEY_KINDS.index(spec.by) + 1,
        reach,
        window,
        position,
        sorted(_code("type", value) for value in spec.types),
        sorted(_code("direction", value) for value in spec.directions),
        sorted(_code("status", value) for value in spec.statuses),
        sorted(_code("channel", value) for value in spec.channels),
        1 if spec.field == BASE_AMOUNT else 0,
    ]


def _request(
    events: Sequence[AggregateEvent],
    specs: Sequence[AggregateSpec],
    mode: str,
    wanted: Sequence[list[int]] | None = None,
    budget: int | None = None,
    skip: Collection[str] = (),
) -> tuple[list[str], str]:
    """The script's keys and argument; keys in ``skip`` are left out (their specs answer
    "no value": they are computed from paged reads instead)."""
    keys: dict[str, int] = {}
    rows = []
    lists: list[list[int]] = []  # the wanted lists, each sent once (events share them)
    list_number: dict[int, int] = {}
    prefix = _key_prefix()
    for position, event in enumerate(events):
        indexes = [
            0 if key is None or key in skip else keys.setdefault(key, len(keys) + 1)
            for key in _event_keys(event, prefix)
        ]
        member = _member(event) if mode != "compute" else ""
        row = [epoch_ms(event.occurred_at), member, event.currency, indexes]
        if wanted is not None:
            chosen = wanted[position]
            number = list_number.get(id(chosen))
            if number is None:
                lists.append([index + 1 for index in chosen])
                number = list_number[id(chosen)] = len(lists)
            row.append(number)
        rows.append(row)
    retention_ms = retention_days() * 86_400_000
    request = {
        "mode": mode,
        "e": rows,
        "s": [_spec_row(spec, retention_ms) for spec in specs],
        "ret": retention_ms,
        "ttl": [_ttl_seconds(kind) for kind in KEY_KINDS],
    }
    if wanted is not None:
        request["w"] = lists
    if budget is not None:
        request["budget"] = budget
    return list(keys), json.dumps(request, separators=(",", ":"))


def _event_keys(event: AggregateEvent, prefix: str) -> list[str | None]:
    """The event's set keys in KEY_KINDS order, None for a kind it has no value for."""
    return [
        None if value is None else f"{prefix}{event.partner_id}:{kind}:{value}"
        for kind in KEY_KINDS
        for value in (event.keys.get(kind),)
    ]


@cache
def _script():
    source = Path(__file__).with_name("store.lua").read_text()
    return get_redis().register_script(source)


def _run(
    events: Sequence[AggregateEvent],
    specs: Sequence[AggregateSpec],
    mode: str,
    wanted: Sequence[list[int]] | None = None,
    budget: int | None = None,
    skip: Collection[str] = (),
) -> tuple[list[str], bytes]:
    keys, argument = _request(events, specs, mode, wanted, budget, skip)
    return keys, _script()(keys=keys, args=[argument])


def _results(
    events: Sequence[AggregateEvent],
    specs: tuple[AggregateSpec, ...],
    mode: str,
    wanted: Sequence[Collection[AggregateSpec]] | None = None,
) -> list[dict[AggregateSpec, object]]:
    if not events or not specs:
        if events and mode == "both":
            aggregates_record(events)
        return [{} for _ in events]
    if mode == "both" and len(events) > RECORD_CHUNK:
        aggregates_record(events)
        mode = "compute"
    position = {spec: index for index, spec in enumerate(specs)}
    if wanted is None:
        chosen = [range(len(specs))] * len(events)
    else:  # the transactions of one rule scope share one collection: sorted once per batch
        sorted_of: dict[int, list[int]] = {}
        chosen = []
        for subset in wanted:
            indexes = sorted_of.get(id(subset))
            if indexes is None:
                indexes = sorted_of[id(subset)] = sorted(position[spec] for spec in subset)
            chosen.append(indexes)
    subsets = None if wanted is None else chosen
    budget = read_budget() if mode in ("both", "compute") else None
    keys, raw = _run(events, specs, mode, subsets, budget)
    width = len(specs)
    if raw.startswith(b"!"):
        flat = _compute_in_parts(
            events, specs, subsets, dict(zip(keys, _counts(raw), strict=True)), budget
        )
    else:
        flat = raw.split(b";")
    # Counts, most of the values, are plain integers: decoded inline, the other specs by
    # _decode. Decided once per wanted list, not per value: this runs for every value of
    # every transaction scored. (``for raw in [...]`` is an assignment to CPython.)
    columns_of: dict[int, list] = {}
    results = []
    for index, event in enumerate(events):
        exponent = minor_units(event.currency)
        base = index * width
        indexes = chosen[index]
        columns = columns_of.get(id(indexes))
        if columns is None:
            columns = columns_of[id(indexes)] = [
                (j, specs[j], specs[j].function in _COUNTS) for j in indexes
            ]
        results.append(
            {
                spec: (int(raw) if raw else None)
                if count
                else _decode(spec.function, raw, exponent)
                for j, spec, count in columns
                for raw in [flat[base + j]]
            }
        )
    return results


def _counts(raw: bytes) -> list[int]:
    return [int(count) for count in raw[1:].split(b",")]


def _compute_in_parts(
    events: Sequence[AggregateEvent],
    specs: tuple[AggregateSpec, ...],
    subsets: Sequence[list[int]] | None,
    members: dict[str, int],
    budget: int,
) -> list[bytes]:
    """Compute recorded events in calls that each read about ``budget`` members at most.

    A key over the budget on its own is read in pages and swept on the worker
    (``_compute_oversized``); the other keys are computed by the script in parts.
    Each call is atomic, not the whole: a concurrent writer's events may be seen by some of
    the parts and not others, as they would by the next batch. The results are the same as
    one call's otherwise.
    """
    width = len(specs)
    flat: list[bytes] = [b""] * (len(events) * width)
    oversized = {key for key, count in members.items() if count > budget}
    within = {key: count for key, count in members.items() if key not in oversized}
    for part in _parts(events, within, budget):
        chosen = None if subsets is None else [subsets[position] for position in part]
        batch = [events[position] for position in part]
        _, raw = _run(batch, specs, "compute", chosen, skip=oversized)
        values = raw.split(b";")
        for index, position in enumerate(part):
            flat[position * width : (position + 1) * width] = values[
                index * width : (index + 1) * width
            ]
    if oversized:
        for slot, value in _compute_oversized(events, specs, subsets, oversized, budget):
            flat[slot] = value.encode()
    return flat


def _compute_oversized(
    events: Sequence[AggregateEvent],
    specs: tuple[AggregateSpec, ...],
    subsets: Sequence[list[int]] | None,
    oversized: set[str],
    budget: int,
) -> Iterator[tuple[int, str]]:
    """(output slot, value) of every spec the events want on an oversized key (rules.aggregates
    .paged): each such key is read in pages of ``budget`` members, never in one long call."""
    retention_ms = retention_days() * 86_400_000
    rows = [_spec_row(spec, retention_ms) for spec in specs]
    prefix = _key_prefix()
    width = len(specs)
    jobs: dict[str, dict[int, list[paged.Job]]] = {}
    for position, event in enumerate(events):
        t = epoch_ms(event.occurred_at)
        wanted = range(width) if subsets is None else subsets[position]
        for kind, key in enumerate(_event_keys(event, prefix), start=1):
            if key not in oversized:
                continue
            on_key = jobs.setdefault(key, {})
            for j in wanted:
                if rows[j][1] == kind:
                    job = paged.Job(t, event.currency, position * width + j)
                    on_key.setdefault(j, []).append(job)
    client = get_redis()
    for key, by_spec in jobs.items():
        sweeps = [
            (paged.PagedSpec.from_row(rows[j]), sorted(items, key=lambda job: job.t))
            for j, items in by_spec.items()
        ]
        yield from paged.compute_key(client, key, sweeps, budget)


def _parts(
    events: Sequence[AggregateEvent], members: dict[str, int], budget: int
) -> list[list[int]]:
    """Event positions per call, so that the members a call reads (each key's once) stay
    within ``budget`` where they can.

    Events go in groups by the key that reads the most of them (an account in a burst), and a
    group is never cut: its key is read once, by one call. A group over budget on its own gets
    a call of its own, which reads that key and no more (it cannot do with less).
    """
    prefix = _key_prefix()
    groups: dict[str, tuple[list[int], set[str]]] = {}
    for position, event in enumerate(events):
        read = [key for key in _event_keys(event, prefix) if key is not None and members.get(key)]
        heaviest = max(read, key=members.__getitem__, default="")
        positions, keys = groups.setdefault(heaviest, ([], set()))
        positions.append(position)
        keys.update(read)
    parts: list[list[int]] = []
    current: list[int] = []
    seen: set[str] = set()
    spent = 0
    for positions, keys in groups.values():
        extra = sum(members[key] for key in keys - seen)
        if current and spent + extra > budget:
            parts.append(current)
            current, seen, spent = [], set(), 0
            extra = sum(members[key] for key in keys)
        current.extend(positions)
        seen.update(keys)
        spent += extra
    if current:
        parts.append(current)
    return parts


# --- Decoding --------------------------------------------------------------------------------


def _decode(function: str, raw: bytes, exponent: int) -> object:
    if not raw:
        return None
    if raw.startswith(b"~"):
        return _decode_figures(function, raw[1:].decode())
    if function in _COUNTS:
        return int(raw)
    if function == "days_since_previous":
        return Decimal(_divide_half_even(int(raw), 8_640)).scaleb(-4)  # ms / 86,400,000
    if function in ("max", "min"):
        return Decimal(int(raw)).scaleb(-exponent)
    parts = [int(part) for part in raw.split(b",")]
    total = parts[0] * 10**8 + parts[1]
    if function == "sum":
        return Decimal(total).scaleb(-exponent)
    return Decimal(_divide_half_even(total, parts[2])).scaleb(-exponent)  # avg


def _decode_figures(function: str, raw: str) -> CurrencyFigures:
    """An amount function over amount_base: each currency's figure, in that currency."""
    figures = {}
    for entry in filter(None, raw.split("|")):
        currency, _, figure = entry.partition(":")
        exponent = minor_units(currency)
        if function in ("max", "min"):
            figures[currency] = (Decimal(int(figure)).scaleb(-exponent), 1)
        else:
            hi, lo, count = (int(part) for part in figure.split(","))
            figures[currency] = (Decimal(hi * 10**8 + lo).scaleb(-exponent), count)
    return CurrencyFigures(function, figures)


def _divide_half_even(numerator: int, denominator: int) -> int:
    quotient, remainder = divmod(numerator, denominator)
    if 2 * remainder > denominator or (2 * remainder == denominator and quotient % 2):
        quotient += 1
    return quotient


def _chunks(items: Iterator, size: int) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk

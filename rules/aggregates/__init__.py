"""Rolling aggregates over event time, kept hot in Redis so scoring reads no SQL.

A rule asks for values such as "sum of cash deposits into this account over the last 7 days".
Each such request is an ``AggregateSpec``. Window semantics are exact: the key's transactions
with ``occurred_at`` in ``(t - window, t]``, the scored one included, whatever order they
arrived in (a replayed backfill scores like live traffic). That is why the store keeps events
rather than counters. Event times count in whole milliseconds.

Keys, per partner: ``account`` (the customer side's account id), ``customer`` (its customer id),
``counterparty`` (its account id, else "~" + its name casefolded, accents stripped, spaces
collapsed), ``device`` and ``ip``. A transaction without a value for the spec's key kind gets
None from every function, counts included; the rule engine treats None as "no value".

"Matching" transactions are the key's transactions that pass the spec's filters (types,
directions, statuses, channels; empty means any, so by default every status counts):

- ``count``: matching transactions in the window, all currencies.
- ``sum``, ``avg``, ``max``, ``min`` of the amount: over the matching transactions in the scored
  transaction's currency. A sum of nothing is 0 with the currency's decimals; avg, max and min
  of nothing are None. avg is rounded half-even to the currency's minor unit. Amounts are exact
  integers of minor units throughout and come back as Decimal with the currency's exponent.
- ``distinct(field)``: distinct non-empty values of counterparty, counterparty_country, device
  or ip among the matching transactions in the window.
- ``new_counterparties``: distinct non-empty counterparties of matching transactions in the
  window whose earliest matching appearance within the look-back (retention,
  ``SENTINEL_AGGREGATE_RETENTION_DAYS``, default 35) before t falls inside the window.
- ``days_since_previous``: t minus the latest matching transaction strictly before t, in days,
  Decimal to 0.0001; None when there is none. It sees as far back as the store keeps.
- A windowed function without a window reads the whole look-back.

Limits: each key keeps its events within retention of its newest event, plus the newest older
one (so days_since_previous sees across a gap), and expires after retention + 7 days idle.
Values longer than 8 characters (device ids, IPs, names) are stored as 48-bit digests, so a
distinct count could in theory merge two values (odds about 1e-11 for 100 values). Sums are
exact up to about 9 million transactions per window (two-limb integers in Lua doubles).

Cost: a call reads each key it computes for once, over the longest range its specs need (35
days for new_counterparties), then answers all the call's events on that key with one sweep per
spec in time order: O(members read + events) per key and spec, however many of the call's events
share the key. Reading costs Redis a few microseconds per member and the Lua script blocks Redis
while it runs, so a record-and-compute call whose reads would pass a budget
(``SENTINEL_AGGREGATE_READ_BUDGET`` members, default 5,000) records its events, then computes
in smaller calls that each read a busy key once (an account in a burst, with its events).
Recording is chunked too (``RECORD_CHUNK`` events per call). A single key with more members
in its span than the budget (an account with hundreds of transactions a day asked for a
35-day new_counterparties) is read in pages of at most the budget and swept on the worker with
the same semantics (``paged``), so no call grows with a key's size.
"""

from .events import AggregateEvent, event_from_transaction, normalise_name
from .reference import aggregate_from_sql
from .specs import (
    AMOUNT_FUNCTIONS,
    BASE_AMOUNT,
    DISTINCT_FIELDS,
    FUNCTIONS,
    KEY_KINDS,
    MAX_WINDOW_SECONDS,
    AggregateSpec,
    CurrencyFigures,
    format_window,
    parse_window,
)
from .store import (
    aggregates_compute,
    aggregates_drop,
    aggregates_preview,
    aggregates_rebuild,
    aggregates_record,
    aggregates_record_and_compute,
)

__all__ = [
    "AMOUNT_FUNCTIONS",
    "BASE_AMOUNT",
    "DISTINCT_FIELDS",
    "FUNCTIONS",
    "KEY_KINDS",
    "MAX_WINDOW_SECONDS",
    "AggregateEvent",
    "AggregateSpec",
    "CurrencyFigures",
    "aggregate_from_sql",
    "aggregates_compute",
    "aggregates_drop",
    "aggregates_preview",
    "aggregates_rebuild",
    "aggregates_record",
    "aggregates_record_and_compute",
    "event_from_transaction",
    "format_window",
    "normalise_name",
    "parse_window",
]

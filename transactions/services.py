"""Writes for partners, keys and transactions. The API, the admin and seed_demo all come here."""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import time
import uuid
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache, cached_property

from django.conf import settings
from django.db import connection
from django.db import transaction as db_transaction
from django.utils import timezone
from django.utils.text import slugify
from redis.exceptions import LockError

from sentinel.db import execute_with_records
from sentinel.ids import uuid7
from sentinel.redis import get_redis, redis_key

from . import keyring, profile_cache
from .choices import RiskRating, TransactionStatus
from .models import AccountProfile, ApiKey, PartnerBank, Transaction, customer_side
from .schemas import TransactionIn, validate_transaction

logger = logging.getLogger(__name__)


# --- Partners and keys -------------------------------------------------------------------------


def partner_create(*, name: str, rate_limit_per_minute: int | None = None) -> PartnerBank:
    name = name.strip()
    base = slugify(name)[:56] or "partner"
    slug, suffix = base, 2
    while PartnerBank.objects.filter(slug=slug).exists():
        slug, suffix = f"{base}-{suffix}", suffix + 1
    partner = PartnerBank(name=name, slug=slug, rate_limit_per_minute=rate_limit_per_minute)
    partner.full_clean()
    partner.save()
    return partner


def api_key_create(
    *,
    partner: PartnerBank,
    label: str = "",
    allowed_networks: Sequence[str] = (),
    created_by=None,
) -> tuple[ApiKey, str]:
    """A new live key and its secret; the secret is returned once and stored only encrypted."""
    secret = secrets.token_urlsafe(32)
    api_key = ApiKey(
        partner=partner,
        key_id=f"sk_{partner.slug[:12]}_{secrets.token_hex(8)}",
        encrypted_secret=keyring.encrypt_secret(secret),
        label=label,
        allowed_networks=list(allowed_networks),
        created_by=created_by,
    )
    api_key.full_clean()
    api_key.save()
    return api_key, secret


def api_key_revoke(*, api_key: ApiKey, revoked_by=None) -> ApiKey:
    """Revoke at once; requests signed with it answer 401 from the next request on."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.revoked_by = revoked_by
        api_key.save(update_fields=["revoked_at", "revoked_by"])
    keyring.keys_changed()
    return api_key


# --- Transactions ------------------------------------------------------------------------------


@dataclass
class IngestResult:
    """What happened to one submitted transaction."""

    status: str  # created | duplicate | conflict | invalid
    id: uuid.UUID | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    stored: Transaction | None = None  # the row found for a duplicate or conflict
    row: dict | None = field(default=None, repr=False)  # the columns of a new transaction
    partner: PartnerBank | None = field(default=None, repr=False)

    @cached_property
    def transaction(self) -> Transaction | None:
        """The stored transaction (built from its columns when this call created it)."""
        if self.stored is not None or self.row is None:
            return self.stored
        instance = Transaction(**self.row)
        instance.partner = self.partner
        instance._state.adding, instance._state.db = False, "default"
        return instance


def _columns(*, partner: PartnerBank, data: TransactionIn, received_at: datetime) -> dict:
    """The transaction's column values, ready for the INSERT."""
    row = {
        "id": uuid7(),
        "partner_id": partner.pk,
        "external_id": data.external_id,
        "occurred_at": data.occurred_at,
        "received_at": received_at,
        "amount": data.amount,
        "currency": data.currency,
        "type": data.type,
        "status": data.status,
        "direction": data.direction,
        "channel": data.channel or "",
        "device_id": data.device_id or "",
        "ip_address": data.ip_address,
        "product": data.product or "",
        "acquirer": data.acquirer or "",
        "card_type": data.card_type or "",
        "mcc": data.mcc or "",
        "latency_ms": data.latency_ms,
        "metadata": data.metadata,
        "payload_hash": data.fingerprint(),
        "profiled_at": None,
    }
    for side in ("originator", "beneficiary"):
        party = getattr(data, side)
        for name in ("account_id", "customer_id", "name", "country", "bank"):
            row[f"{side}_{name}"] = getattr(party, name) or ""
    return row


def transactions_ingest(
    *, partner: PartnerBank, payloads: Sequence[object], hand_over: bool = True
) -> list[IngestResult]:
    """Validate and store transactions idempotently, one result per payload, in order.

    Ids are generated here, so after ``INSERT ... ON CONFLICT DO NOTHING`` the row that carries
    our id is ours (created); any other row with the same external_id was stored before, by an
    earlier or a concurrent request: the same payload is a duplicate, a different one a conflict.
    Created transactions are handed to profiling after the commit, unless ``hand_over`` is
    False: then the caller hands them over itself (``transactions_hand_over``), as ``?wait=true``
    does once it has scored them, so the worker never races the request.
    """
    received_at = timezone.now()
    results: list[IngestResult] = []
    for payload in payloads:
        data, errors = validate_transaction(payload)
        if data is None:
            results.append(IngestResult(status="invalid", errors=errors))
            continue
        row = _columns(partner=partner, data=data, received_at=received_at)
        results.append(IngestResult(status="pending", id=row["id"], row=row, partner=partner))
    pending = [result for result in results if result.status == "pending"]
    if not pending:
        return results

    inserted = _insert_new([result.row for result in pending])
    earlier = {r.row["external_id"] for r in pending if r.id not in inserted}
    stored: dict[str, Transaction] = {}
    if earlier:
        rows = Transaction.objects.filter(partner=partner, external_id__in=earlier)
        stored = {row.external_id: row for row in rows}
    handed: list[ProfilingKey] = []
    for result in pending:
        if result.id in inserted:
            result.status = "created"
            handed.append(ProfilingKey.of(result.row))
            continue
        result.stored = stored[result.row["external_id"]]
        same = result.stored.payload_hash == result.row["payload_hash"]
        result.status = "duplicate" if same else "conflict"
        result.id, result.row = result.stored.id, None
    if handed and hand_over:
        # Runs at once in autocommit mode (the API), after the outer commit inside atomic().
        db_transaction.on_commit(lambda: transactions_hand_over(handed), robust=True)
    return results


def _insert_new(rows: list[dict]) -> set:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the ids that were actually stored.

    Written in SQL because the ORM's bulk_create(ignore_conflicts=True) cannot say which rows
    it inserted. The rows travel as one JSON parameter (sentinel.db). Rows go in external_id
    order so concurrent overlapping batches lock the unique index in the same order.
    """
    return {row[0] for row in execute_with_records(_insert_sql(), rows)}


@cache
def _insert_sql() -> str:
    fields = Transaction._meta.concrete_fields
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    types = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)
    table = quote(Transaction._meta.db_table)
    return (
        f"INSERT INTO {table} ({names}) "  # noqa: S608  model metadata only
        f"SELECT {names} FROM json_to_recordset(%s::json) AS r({types}) "
        "ORDER BY external_id "
        "ON CONFLICT (partner_id, external_id) DO NOTHING RETURNING id"
    )


def transaction_build(
    *, partner: PartnerBank, payload: object
) -> tuple[Transaction | None, dict[str, list[str]]]:
    """An unsaved transaction from a payload, validated like ingest (for "try it" in the admin);
    (None, errors) when the payload is invalid."""
    data, errors = validate_transaction(payload)
    if data is None:
        return None, errors
    instance = Transaction(**_columns(partner=partner, data=data, received_at=timezone.now()))
    instance.partner = partner
    return instance, {}


def transaction_ingest(
    *, partner: PartnerBank, payload: object, hand_over: bool = True
) -> IngestResult:
    return transactions_ingest(partner=partner, payloads=[payload], hand_over=hand_over)[0]


def transactions_hand_over(transactions: Sequence[ProfilingKey]) -> None:
    """The seam between ingest and the workers: queue new transactions for profiling.

    If Redis or the broker is unreachable nothing is lost: the periodic sweep profiles
    whatever stays unprofiled.
    """
    try:
        profile_queue_push(transactions=transactions)
    except Exception:  # noqa: BLE001  any failure here is covered by the sweep
        logger.warning(
            "Could not queue %d transactions for profiling; the sweep will pick them up.",
            len(transactions),
            exc_info=True,
        )


# --- Profiling queue ---------------------------------------------------------------------------
# Accepted ids go to Redis lists, one per shard of the accounts, and one Celery task at a time
# drains each shard in bulk. A per-request task would cost the web process a broker publish and
# the worker a transaction per row; this way both pay per batch. Sharding by account lets
# several worker processes profile at once without waiting on each other: two drains never
# lock the same account, profile or alert row. They meet only on a customer whose accounts
# fall in different shards (its row and its case), where one waits for the other's commit;
# locks are taken in one order everywhere, so never a deadlock. The "drain scheduled" flag
# keeps one task queued per shard: the task clears it before draining, so anything pushed
# later schedules the next one.

PROFILE_DRAIN_BATCH = 1000
# Waiting a moment before draining lets a burst collect into one batch (cheaper per row) while
# keeping profiles well within two seconds of the transaction.
PROFILE_DRAIN_DELAY_SECONDS = 0.5


@dataclass(frozen=True)
class ProfilingKey:
    """What the queue needs of a new transaction: its id, and the account that shards it."""

    id: uuid.UUID
    partner_id: int
    account_external_id: str

    @classmethod
    def of(cls, row: Transaction | Mapping) -> ProfilingKey:
        if isinstance(row, Transaction):
            return cls(row.id, row.partner_id, row.account_external_id)
        side = customer_side(row["direction"])
        return cls(row["id"], row["partner_id"], row[f"{side}_account_id"])

    @property
    def shard(self) -> int:
        return profile_shard(self.partner_id, self.account_external_id)


def profile_shard(partner_id: int, account_external_id: str) -> int:
    """The queue shard of an account: stable across processes (crc32, not ``hash``)."""
    key = f"{partner_id}:{account_external_id}".encode()
    return zlib.crc32(key) % settings.SENTINEL_PROFILE_SHARDS


def profile_queue_key(shard: int) -> str:
    return redis_key("profiling", "queue", str(shard))


def profile_queue_length() -> int:
    """Transaction ids waiting in every shard."""
    pipe = get_redis().pipeline(transaction=False)
    for shard in range(settings.SENTINEL_PROFILE_SHARDS):
        pipe.llen(profile_queue_key(shard))
    return sum(pipe.execute())


def profile_queue_push(*, transactions: Sequence[ProfilingKey]) -> None:
    by_shard: dict[int, list[str]] = {}
    for key in transactions:
        by_shard.setdefault(key.shard, []).append(str(key.id))
    shards = sorted(by_shard)
    pipe = get_redis().pipeline(transaction=False)
    for shard in shards:
        pipe.rpush(profile_queue_key(shard), *by_shard[shard])
        pipe.set(_drain_scheduled_key(shard), 1, nx=True, ex=10)
    answers = pipe.execute()
    for shard, scheduled in zip(shards, answers[1::2], strict=True):
        if scheduled:
            _drain_schedule(shard)


def _drain_scheduled_key(shard: int) -> str:
    return redis_key("profiling", "scheduled", str(shard))


def _drain_schedule(shard: int) -> None:
    """Queue the shard's drain task (its "scheduled" flag is already set)."""
    from .tasks import profile_queued_transactions

    try:
        profile_queued_transactions.apply_async(
            args=(shard,), countdown=PROFILE_DRAIN_DELAY_SECONDS
        )
    except Exception:
        get_redis().delete(_drain_scheduled_key(shard))  # let the next push try again
        raise


# One drain task spends at most this long before handing the rest to a successor, so that a
# sustained stream never runs into the task's time limit and other tasks get their turn.
PROFILE_DRAIN_BUDGET_SECONDS = 20
# The lock that keeps a shard to one drain at a time outlives a crashed holder by this much.
PROFILE_DRAIN_LOCK_SECONDS = 30


def profile_queue_drain(*, shard: int) -> int:
    """Profile what is queued in one shard; returns how many transactions were folded.

    One drain per shard at a time: a second task for a shard that is being drained returns at
    once, since the running drain takes what was queued. Whatever is left when the running
    drain stops (its budget spent, or pushed as it released the shard) gets a successor task.
    """
    redis = get_redis()
    redis.delete(_drain_scheduled_key(shard))
    lock = redis.lock(redis_key("profiling", "draining", str(shard)), PROFILE_DRAIN_LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        return 0
    folded = 0
    deadline = time.monotonic() + PROFILE_DRAIN_BUDGET_SECONDS
    try:
        while ids := redis.lpop(profile_queue_key(shard), PROFILE_DRAIN_BATCH):
            folded += account_profiles_refresh(transaction_ids=[pk.decode() for pk in ids])
            lock.reacquire()
            if time.monotonic() > deadline:
                break
    except LockError:  # a batch outlasted the lock; another drain may hold the shard now
        logger.warning("Profiling shard %d: the drain lock expired during a batch.", shard)
    finally:
        with contextlib.suppress(LockError):
            lock.release()
    if redis.llen(profile_queue_key(shard)) and redis.set(
        _drain_scheduled_key(shard), 1, nx=True, ex=10
    ):
        _drain_schedule(shard)
    return folded


def profile_queues_drain() -> int:
    """Profile everything queued in every shard, here and now (commands, tests)."""
    return sum(
        profile_queue_drain(shard=shard) for shard in range(settings.SENTINEL_PROFILE_SHARDS)
    )


# --- Account profiles --------------------------------------------------------------------------

# How many distinct countries and devices a profile remembers (the most frequent win).
PROFILE_TOP_N = 50


def account_profiles_refresh(*, transaction_ids: Sequence) -> int:
    """Fold unprofiled transactions into their accounts' profiles and score them; returns how
    many were folded.

    Idempotent and safe to run concurrently: rows already profiled, or locked by another worker,
    are skipped, and profiles are locked in account order so two workers never deadlock. Costs a
    handful of statements per call whatever the number of accounts (upserts in bulk).
    """
    with db_transaction.atomic():
        locked = (
            Transaction.objects.filter(id__in=transaction_ids)
            # NO KEY: a decision inserted by ``?wait=true`` takes a key-share lock on its
            # transaction, which FOR UPDATE would block (and deadlock with our own insert).
            .select_for_update(skip_locked=True, no_key=True)
            .order_by("id")
        )
        # "Not yet profiled" is checked here, not in SQL: there the planner ANDs the primary
        # key with the partial index of unprofiled rows, whose dead entries (every row ever
        # profiled, until the next vacuum) it then reads in full: milliseconds per batch,
        # growing with the table.
        rows = [row for row in locked if row.profiled_at is None]
        if not rows:
            return 0
        by_account: dict[tuple[int, str], list[Transaction]] = {}
        for row in rows:
            by_account.setdefault((row.partner_id, row.account_external_id), []).append(row)
        customers = _customers_upsert(by_account)
        accounts = _accounts_upsert(by_account, customers)
        profiles = _profiles_fold(by_account, accounts)
        _score(rows, profiles)
        Transaction.objects.filter(id__in=[row.id for row in rows]).update(
            profiled_at=timezone.now()
        )
        db_transaction.on_commit(lambda: profile_cache.cache_profiles(profiles), robust=True)
    return len(rows)


def _score(rows: list[Transaction], profiles: dict[tuple[int, str], dict]) -> None:
    """The seam to the rule engine: score what was just profiled, in the same database
    transaction, so a transaction is either profiled and decided, or neither (and swept)."""
    from rules.services import transactions_score

    transactions_score(transactions=rows, profiles=profiles)


def _upsert(sql: str, records: list[dict]) -> dict[tuple[int, str], int]:
    """Run an upsert fed by json_to_recordset; {(partner_id, external_id): id}."""
    rows = execute_with_records(sql, records)
    return {(partner_id, external_id): pk for pk, partner_id, external_id in rows}


# Profiles that do not exist yet start empty; existing ones are left for the locked fold.
_PROFILE_INSERT = """
INSERT INTO transactions_accountprofile (
    account_id, first_seen_at, last_seen_at, transaction_count, activity, status_counts,
    countries, devices, risk_rating, limit_currency, updated_at)
SELECT account_id, first_seen_at, last_seen_at, 0, '{}', '{}', '{}', '{}', r.risk_rating, '',
    updated_at
FROM json_to_recordset(%s::json) AS r(
    account_id bigint, first_seen_at timestamptz, last_seen_at timestamptz,
    updated_at timestamptz, risk_rating varchar(10))
ON CONFLICT (account_id) DO NOTHING
"""


def _customers_upsert(by_account: dict) -> dict[tuple[int, str], int]:
    """Customers seen in these transactions; name and country follow the latest transaction."""
    seen: dict[tuple[int, str], dict] = {}
    for (partner_id, _), txs in by_account.items():
        latest = max(txs, key=lambda t: t.occurred_at)
        party = latest.party(latest.customer_side)
        if not party["customer_id"]:
            continue
        first = min(t.occurred_at for t in txs)
        key = (partner_id, party["customer_id"])
        known = seen.get(key)
        if known is None or latest.occurred_at >= known["last_seen_at"]:
            first = min(first, known["first_seen_at"]) if known else first
            seen[key] = {
                "partner_id": partner_id,
                "external_id": party["customer_id"],
                "name": party["name"],
                "country": party["country"],
                "first_seen_at": first,
                "last_seen_at": latest.occurred_at,
            }
        else:
            known["first_seen_at"] = min(known["first_seen_at"], first)
    if not seen:
        return {}
    return _upsert(_CUSTOMER_UPSERT, sorted(seen.values(), key=lambda r: r["external_id"]))


_CUSTOMER_UPSERT = """
INSERT INTO transactions_customer AS c
    (partner_id, external_id, name, country, first_seen_at, last_seen_at)
SELECT partner_id, external_id, name, country, first_seen_at, last_seen_at
FROM json_to_recordset(%s::json) AS r(
    partner_id bigint, external_id varchar(64), name varchar(200), country varchar(2),
    first_seen_at timestamptz, last_seen_at timestamptz)
ON CONFLICT (partner_id, external_id) DO UPDATE SET
    first_seen_at = LEAST(c.first_seen_at, EXCLUDED.first_seen_at),
    last_seen_at = GREATEST(c.last_seen_at, EXCLUDED.last_seen_at),
    name = CASE WHEN EXCLUDED.last_seen_at >= c.last_seen_at AND EXCLUDED.name <> ''
                THEN EXCLUDED.name ELSE c.name END,
    country = CASE WHEN EXCLUDED.last_seen_at >= c.last_seen_at AND EXCLUDED.country <> ''
                   THEN EXCLUDED.country ELSE c.country END
RETURNING id, partner_id, external_id
"""


def _accounts_upsert(by_account: dict, customers: dict) -> dict[tuple[int, str], int]:
    records = []
    for (partner_id, account_id), txs in sorted(by_account.items()):
        latest = max(txs, key=lambda t: t.occurred_at)
        customer_id = latest.party(latest.customer_side)["customer_id"]
        records.append(
            {
                "partner_id": partner_id,
                "external_id": account_id,
                "customer_id": customers.get((partner_id, customer_id)),
                "created_at": timezone.now(),
            }
        )
    return _upsert(_ACCOUNT_UPSERT, records)


_ACCOUNT_UPSERT = """
INSERT INTO transactions_account AS a (partner_id, external_id, customer_id, created_at)
SELECT partner_id, external_id, customer_id, created_at
FROM json_to_recordset(%s::json) AS r(
    partner_id bigint, external_id varchar(64), customer_id bigint, created_at timestamptz)
ON CONFLICT (partner_id, external_id) DO UPDATE SET
    customer_id = COALESCE(EXCLUDED.customer_id, a.customer_id)
RETURNING id, partner_id, external_id
"""


def _profiles_fold(by_account: dict, accounts: dict) -> dict[tuple[int, str], dict]:
    """Fold the batch into its accounts' profiles, locked in account order; the folded
    profiles in their cached form (profile_cache), keyed by (partner id, account id).

    Plain rows rather than model instances: building three models per account cost more than
    the fold itself.
    """
    now = timezone.now()
    ordered = sorted(by_account.items())
    execute_with_records(
        _PROFILE_INSERT,
        [
            {
                "account_id": accounts[key],
                "first_seen_at": min(t.occurred_at for t in txs),
                "last_seen_at": max(t.occurred_at for t in txs),
                "updated_at": now,
                "risk_rating": RiskRating.LOW,
            }
            for key, txs in ordered
        ],
    )
    with connection.cursor() as cursor:
        cursor.execute(_PROFILE_LOCK, [[accounts[key] for key, _ in ordered]])
        locked = {row[0]: row for row in cursor.fetchall()}
    profiles, records = {}, []
    for key, txs in ordered:
        profile = _profile_of(locked[accounts[key]])
        _fold(profile, txs)
        records.append(
            {
                "account_id": accounts[key],
                **{name: profile[name] for name in AccountProfile.FOLDED_FIELDS},
                "updated_at": now,
            }
        )
        profiles[key] = profile_cache.cacheable(profile)
    # One UPDATE ... FROM json_to_recordset: the ORM's bulk_update builds a CASE per row and
    # field, which cost ten times the rest of the fold.
    execute_with_records(_PROFILE_UPDATE, records)
    return profiles


_PROFILE_LOCK = """
SELECT p.account_id, p.first_seen_at, p.last_seen_at, p.transaction_count, p.activity,
    p.status_counts, p.countries, p.devices, p.risk_rating, p.single_transaction_limit,
    p.daily_limit, p.limit_currency, a.partner_id, a.external_id, c.external_id
FROM transactions_accountprofile p
JOIN transactions_account a ON a.id = p.account_id
LEFT JOIN transactions_customer c ON c.id = a.customer_id
WHERE p.account_id = ANY(%s)
ORDER BY p.account_id
FOR UPDATE OF p
"""
_PROFILE_UPDATE = """
UPDATE transactions_accountprofile AS p SET
    first_seen_at = r.first_seen_at, last_seen_at = r.last_seen_at,
    transaction_count = r.transaction_count, activity = r.activity,
    status_counts = r.status_counts, countries = r.countries, devices = r.devices,
    updated_at = r.updated_at
FROM json_to_recordset(%s::json) AS r(
    account_id bigint, first_seen_at timestamptz, last_seen_at timestamptz,
    transaction_count bigint, activity jsonb, status_counts jsonb, countries jsonb,
    devices jsonb, updated_at timestamptz)
WHERE p.account_id = r.account_id
"""
# The columns of _PROFILE_LOCK, in its order.
_PROFILE_COLUMNS = (
    "account_pk",
    *AccountProfile.FOLDED_FIELDS,
    *AccountProfile.STAFF_FIELDS,
    "partner_id",
    "account_id",
    "customer_id",
)


def _profile_of(row: tuple) -> dict:
    profile = dict(zip(_PROFILE_COLUMNS, row, strict=True))
    del profile["account_pk"]
    for name in ("activity", "status_counts", "countries", "devices"):
        if isinstance(profile[name], str | bytes):  # Django leaves jsonb undecoded
            profile[name] = json.loads(profile[name])
    return profile


def _fold(profile: dict, txs: list[Transaction]) -> None:
    profile["first_seen_at"] = min(profile["first_seen_at"], *(t.occurred_at for t in txs))
    profile["last_seen_at"] = max(profile["last_seen_at"], *(t.occurred_at for t in txs))
    profile["transaction_count"] += len(txs)
    activity, status_counts = profile["activity"], profile["status_counts"]
    countries, devices = profile["countries"], profile["devices"]
    for tx in txs:
        _count(status_counts, tx.status)
        if tx.status == TransactionStatus.APPROVED:
            bucket = activity.setdefault(
                f"{tx.direction}:{tx.type}:{tx.currency}", {"count": 0, "sum": "0"}
            )
            bucket["count"] += 1
            bucket["sum"] = str(Decimal(bucket["sum"]) + tx.amount)
        if country := getattr(tx, f"{tx.counterparty_side}_country"):
            _count(countries, country)
        if tx.device_id:
            _count(devices, tx.device_id)
    profile["countries"] = _top(countries)
    profile["devices"] = _top(devices)


def _count(counter: dict[str, int], key: str) -> None:
    counter[key] = counter.get(key, 0) + 1


def _top(counter: dict[str, int]) -> dict[str, int]:
    if len(counter) <= PROFILE_TOP_N:
        return counter
    return dict(sorted(counter.items(), key=lambda item: -item[1])[:PROFILE_TOP_N])


def account_profile_update(
    *,
    profile: AccountProfile,
    risk_rating: str,
    single_transaction_limit: Decimal | None,
    daily_limit: Decimal | None,
    limit_currency: str,
) -> AccountProfile:
    """Staff-set rating and limits; the cached copy is dropped so scoring sees the change."""
    profile.risk_rating = risk_rating
    profile.single_transaction_limit = single_transaction_limit
    profile.daily_limit = daily_limit
    profile.limit_currency = limit_currency
    profile.full_clean()
    with db_transaction.atomic():
        profile.save(
            update_fields=[
                "risk_rating",
                "single_transaction_limit",
                "daily_limit",
                "limit_currency",
                "updated_at",
            ]
        )
        account = profile.account
        db_transaction.on_commit(
            lambda: profile_cache.invalidate_profile(account.partner_id, account.external_id)
        )
    return profile

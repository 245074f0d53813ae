"""Account profiles: what each account usually does, folded from its transactions.

The pipeline's *profile* stage claims a batch of accepted transactions and folds it here, in
the same database transaction as the rest of the batch's processing (sentinel.pipeline).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal

from django.db import connection
from django.db import transaction as db_transaction
from django.utils import timezone

from sentinel.db import execute_with_records

from .. import profile_cache
from ..choices import RiskRating, TransactionStatus
from ..models import AccountProfile, Transaction

# --- Account profiles --------------------------------------------------------------------------

# How many distinct countries and devices a profile remembers (the most frequent win).
PROFILE_TOP_N = 50


def transactions_claim_unprofiled(*, transaction_ids: Sequence) -> list[Transaction]:
    """Lock the transactions among these ids that are not profiled yet, in id order.

    Call inside a database transaction. Rows locked by another worker are skipped (it is
    processing them), so concurrent claims never wait on each other nor deadlock.
    """
    locked = (
        Transaction.objects.filter(id__in=transaction_ids)
        # NO KEY: a decision inserted by ``?wait=true`` takes a key-share lock on its
        # transaction, which FOR UPDATE would block (and deadlock with our own insert).
        .select_for_update(skip_locked=True, no_key=True)
        .order_by("id")
    )
    # "Not yet profiled" is checked here, not in SQL: there the planner ANDs the primary key
    # with the partial index of unprofiled rows, whose dead entries (every row ever profiled,
    # until the next vacuum) it then reads in full: milliseconds per batch, growing with the
    # table.
    return [row for row in locked if row.profiled_at is None]


def account_profiles_fold(*, transactions: Sequence[Transaction]) -> dict[tuple[int, str], dict]:
    """Fold claimed transactions into their customers, accounts and account profiles and mark
    them profiled; the folded profiles in their cached form, keyed by (partner id, account id).

    Call inside the database transaction that claimed them. Costs a handful of statements
    whatever the number of accounts (upserts in bulk); profiles are locked in account order
    so two workers never deadlock. The Redis copy is refreshed after the commit.
    """
    if not transactions:
        return {}
    by_account: dict[tuple[int, str], list[Transaction]] = {}
    for row in transactions:
        by_account.setdefault((row.partner_id, row.account_external_id), []).append(row)
    customers = _customers_upsert(by_account)
    accounts = _accounts_upsert(by_account, customers)
    profiles = _profiles_fold(by_account, accounts)
    Transaction.objects.filter(id__in=[row.id for row in transactions]).update(
        profiled_at=timezone.now()
    )
    db_transaction.on_commit(lambda: profile_cache.cache_profiles(profiles), robust=True)
    return profiles


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

"""Account profiles: what each account usually does, folded from its transactions.

The pipeline's *profile* stage claims a batch of accepted transactions and folds it here, in
the same database transaction as the rest of the batch's processing (sentinel.pipeline).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db import transaction as db_transaction
from django.utils import timezone

from sentinel.db import execute_with_records

from .. import profile_cache
from ..choices import RiskRating, TransactionStatus
from ..models import AccountCounterparty, AccountProfile, Transaction
from ..selectors import party_name_key

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
    account_id, first_seen_at, last_seen_at, transaction_count, counterparty_count, activity,
    status_counts, countries, devices, risk_rating, limit_currency, updated_at)
SELECT account_id, first_seen_at, last_seen_at, 0, 0, '{}', '{}', '{}', '{}', r.risk_rating, '',
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
    new_counterparties = _counterparties_record(ordered, accounts)
    profiles, records = {}, []
    for key, txs in ordered:
        profile = _profile_of(locked[accounts[key]])
        _fold(profile, txs)
        profile["counterparty_count"] += new_counterparties.get(accounts[key], 0)
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


def _counterparties_record(ordered: list, accounts: dict) -> dict[int, int]:
    """Remember each account's counterparties; {account pk: how many it had never dealt
    with}. Runs under the profiles' lock, so two workers never count one pair twice."""
    first_seen: dict[tuple[int, str], object] = {}
    for key, txs in ordered:
        for tx in txs:
            counterparty = transaction_counterparty(tx)
            if not counterparty:
                continue
            pair = (accounts[key], counterparty)
            if pair not in first_seen or tx.occurred_at < first_seen[pair]:
                first_seen[pair] = tx.occurred_at
    if not first_seen:
        return {}
    inserted = execute_with_records(
        _COUNTERPARTY_INSERT,
        [
            {"account_id": account, "counterparty": counterparty, "first_seen_at": at}
            for (account, counterparty), at in first_seen.items()
        ],
    )
    new: dict[int, int] = {}
    for (account,) in inserted:
        new[account] = new.get(account, 0) + 1
    return new


def transaction_counterparty(tx: Transaction) -> str:
    """Who the customer dealt with: the counterparty's account id, else its marked name
    (``AccountCounterparty.counterparty``); '' when the partner sent neither."""
    side = tx.counterparty_side
    if account_id := getattr(tx, f"{side}_account_id"):
        return account_id
    name = party_name_key(getattr(tx, f"{side}_name"))
    return f"{AccountCounterparty.NAME_MARK}{name}" if name else ""


_COUNTERPARTY_INSERT = """
INSERT INTO transactions_accountcounterparty (account_id, counterparty, first_seen_at)
SELECT account_id, counterparty, first_seen_at
FROM json_to_recordset(%s::json) AS r(
    account_id bigint, counterparty varchar(210), first_seen_at timestamptz)
ON CONFLICT (account_id, counterparty) DO NOTHING
RETURNING account_id
"""
_PROFILE_LOCK = """
SELECT p.account_id, p.first_seen_at, p.last_seen_at, p.transaction_count,
    p.counterparty_count, p.activity,
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
    transaction_count = r.transaction_count, counterparty_count = r.counterparty_count,
    activity = r.activity, status_counts = r.status_counts, countries = r.countries,
    devices = r.devices, updated_at = r.updated_at
FROM json_to_recordset(%s::json) AS r(
    account_id bigint, first_seen_at timestamptz, last_seen_at timestamptz,
    transaction_count bigint, counterparty_count bigint, activity jsonb, status_counts jsonb,
    countries jsonb, devices jsonb, updated_at timestamptz)
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
            bucket["min"] = str(min(Decimal(bucket.get("min", tx.amount)), tx.amount))
            bucket["max"] = str(max(Decimal(bucket.get("max", tx.amount)), tx.amount))
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
    actor=None,
) -> AccountProfile:
    """Staff-set rating and limits; the cached copy is dropped so scoring sees the change.

    A change that weakens detection (a lower risk rating, a limit raised or removed, the
    limits' currency changed) does not apply: it waits in ``pending_change`` for another
    person's approval (``account_profile_change_approve``). Returns the profile as stored.
    """
    candidate = copy.copy(profile)  # validated with the new values before anything changes
    candidate.risk_rating, candidate.limit_currency = risk_rating, limit_currency
    candidate.single_transaction_limit, candidate.daily_limit = (
        single_transaction_limit,
        daily_limit,
    )
    candidate.full_clean(exclude=["account", "pending_change_by"], validate_unique=False)
    after = _staff_values(candidate)
    with db_transaction.atomic():
        stored = AccountProfile.objects.select_for_update().get(pk=profile.pk)
        before = _staff_values(stored)
        weakens = profile_change_weakens(before, after)
        if not weakens:
            _apply(stored, after)
            return stored
        if actor is None:
            raise PermissionDenied(f"A change that {_sentence(weakens)} needs a person to ask.")
        if stored.pending_change is not None:
            raise ValidationError(
                "Another change to this profile already awaits approval; approve or reject "
                "it first.",
                code="pending_change",
            )
        stored.pending_change = {"before": before, "after": after, "weakens": weakens}
        stored.pending_change_by, stored.pending_change_at = actor, timezone.now()
        stored.save(update_fields=[*_PENDING_FIELDS, "updated_at"])
    return stored


def account_profile_change_approve(*, profile: AccountProfile, actor) -> AccountProfile:
    """A second person applies a profile change that weakens detection (never its author)."""
    if not actor.has_perm(APPROVE_PROFILE_CHANGE):
        raise PermissionDenied("You do not have permission to approve profile changes.")
    with db_transaction.atomic():
        stored = _pending_locked(profile)
        if stored.pending_change_by_id == actor.pk:
            raise PermissionDenied(
                "You asked for this change: another senior investigator or compliance officer "
                "must approve it."
            )
        if _staff_values(stored) != stored.pending_change["before"]:
            raise ValidationError(
                "The profile changed since this change was asked for; reject it and ask again.",
                code="changed_since",
            )
        after = stored.pending_change["after"]
        _clear_pending(stored)
        _apply(stored, after)
    return stored


def account_profile_change_reject(*, profile: AccountProfile, actor) -> AccountProfile:
    """Drop a pending change: an approver rejects it, or its author withdraws it."""
    with db_transaction.atomic():
        stored = _pending_locked(profile)
        if stored.pending_change_by_id != actor.pk and not actor.has_perm(APPROVE_PROFILE_CHANGE):
            raise PermissionDenied("You do not have permission to reject profile changes.")
        _clear_pending(stored)
        stored.save(update_fields=[*_PENDING_FIELDS, "updated_at"])
    return stored


APPROVE_PROFILE_CHANGE = "transactions.approve_profile_change"
_PENDING_FIELDS = ["pending_change", "pending_change_by", "pending_change_at"]
_RISK_ORDER = {RiskRating.LOW: 0, RiskRating.MEDIUM: 1, RiskRating.HIGH: 2}


def profile_change_weakens(before: dict, after: dict) -> list[str]:
    """What a change of the staff-set fields does that weakens detection (empty: nothing)."""
    weakens = []
    if _RISK_ORDER[after["risk_rating"]] < _RISK_ORDER[before["risk_rating"]]:
        weakens.append("lowers the risk rating")
    for field, name in (
        ("single_transaction_limit", "single-transaction limit"),
        ("daily_limit", "daily limit"),
    ):
        old, new = before[field], after[field]
        if old is not None and (new is None or Decimal(new) > Decimal(old)):
            weakens.append(f"raises or removes the {name}")
    has_limit = before["single_transaction_limit"] or before["daily_limit"]
    if has_limit and after["limit_currency"] != before["limit_currency"]:
        weakens.append("changes the limits' currency")
    return weakens


def _staff_values(profile: AccountProfile) -> dict:
    """The staff-set fields as JSON can hold them (amounts as exact decimal strings)."""

    def amount(value: Decimal | None) -> str | None:
        return None if value is None else str(Decimal(value).normalize())

    return {
        "risk_rating": profile.risk_rating,
        "single_transaction_limit": amount(profile.single_transaction_limit),
        "daily_limit": amount(profile.daily_limit),
        "limit_currency": profile.limit_currency,
    }


def _apply(stored: AccountProfile, values: dict) -> None:
    stored.risk_rating = values["risk_rating"]
    for field in ("single_transaction_limit", "daily_limit"):
        setattr(stored, field, None if values[field] is None else Decimal(values[field]))
    stored.limit_currency = values["limit_currency"]
    stored.save(update_fields=[*AccountProfile.STAFF_FIELDS, *_PENDING_FIELDS, "updated_at"])
    account = stored.account
    db_transaction.on_commit(
        lambda: profile_cache.invalidate_profile(account.partner_id, account.external_id)
    )


def _pending_locked(profile: AccountProfile) -> AccountProfile:
    stored = AccountProfile.objects.select_for_update().get(pk=profile.pk)
    if stored.pending_change is None:
        raise ValidationError("No change to this profile awaits approval.", code="not_pending")
    return stored


def _clear_pending(stored: AccountProfile) -> None:
    stored.pending_change = stored.pending_change_by = stored.pending_change_at = None


def _sentence(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]

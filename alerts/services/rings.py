"""A ring on an alert: the member accounts and the transfers forming it, as rows.

A network detection (the pipeline's window scan) finds money moving across several accounts
and raises one alert on the ring's hub (``alerts_from_findings``). The alert then names every
member (``AlertMember``) and links every transfer (``AlertTransaction`` without a rule hit), so
the alert and its case list them, each member's account page finds the ring, and the
money-flow view draws it. The alerts app knows no graph: the caller hands the ring in as plain
data, and the roles are read from the transfers themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db import connection
from django.db import transaction as db_transaction
from django.utils import timezone

from transactions.choices import RiskRating
from transactions.models import Account, Transaction

from .. import live
from ..choices import AlertEventType, AlertStatus, MemberRole
from ..models import Alert, AlertEvent


@dataclass(frozen=True)
class Ring:
    """Accounts and transfers that form one pattern, around ``hub`` (the alert's subject)."""

    hub: str
    members: tuple[str, ...]
    transaction_ids: tuple[UUID, ...]


def ring_transactions(rings: Sequence[Ring]) -> dict[UUID, Transaction]:
    """The rings' transfers, by id, in one query (what an alert's currency and times are read
    from)."""
    ids = {tx_id for ring in rings for tx_id in ring.transaction_ids}
    if not ids:
        return {}
    return Transaction.objects.only("id", "partner_id", "occurred_at", "currency").in_bulk(ids)


def ring_transfers_of(ring: Ring, transfers: dict, *, partner_id: int) -> list[Transaction]:
    """The ring's transfers among ``transfers`` (``ring_transactions``) that are the partner's."""
    found = (transfers.get(tx_id) for tx_id in ring.transaction_ids)
    return [tx for tx in found if tx is not None and tx.partner_id == partner_id]


def ring_span(transactions: Sequence[Transaction]) -> tuple[datetime, datetime] | None:
    """The ring's first and last transfer: when the pattern was seen."""
    if not transactions:
        return None
    times = [tx.occurred_at for tx in transactions]
    return min(times), max(times)


def ring_currency(transactions: Sequence[Transaction]) -> str | None:
    """The first transfer's currency: the alert's (as for an alert of rule hits)."""
    if not transactions:
        return None
    return min(transactions, key=lambda tx: (tx.occurred_at, str(tx.pk))).currency


def alert_ring_attach(*, alert: Alert, ring: Ring) -> int:
    """Name the ring's members on the alert and link its transfers (the partner's, those not
    linked yet), adding their amounts in the alert's currency (in memory: the caller saves);
    the number of transfers newly linked.

    The same statement as a ring's growth (``_ring_rows_add``), so that a ring raised and a
    ring grown name, merge and link by one rule. Runs in the caller's transaction, with the
    alert locked (or just made)."""
    return _ring_rows_add(alert, ring, None).linked


@dataclass(frozen=True)
class RingGrowth:
    """A ring a later scan found more of, for the alert ``alert_id`` raised on it: the ring
    whole as it is now, and what its ``ring_grew`` event says."""

    alert_id: int
    ring: Ring
    summary: str
    details: dict
    still_worked: bool = False  # the caller knows the alert's case is active
    # The ring's transfers new since the alert took it, given only when the alert links every
    # other one (``selectors.ring_alerts_latest`` says so) and a ring's members are the
    # accounts of its transfers: then only these are read. Empty: the whole ring is.
    added: tuple[UUID, ...] = ()


def alert_ring_grow(
    *,
    alert_id: int,
    ring: Ring,
    summary: str,
    details: dict,
    still_worked: bool = False,
) -> tuple[Alert, bool] | None:
    """One ring's growth (``alerts_ring_grow``)."""
    growth = RingGrowth(alert_id, ring, summary, details, still_worked=still_worked)
    return alerts_ring_grow(growths=[growth])[0]


def alerts_ring_grow(*, growths: Sequence[RingGrowth]) -> list[tuple[Alert, bool] | None]:
    """A later scan found more of the rings these alerts were raised on: name each ring's new
    members (an account that now both pays and receives becomes an intermediary), link its
    new transfers without a hit, add them to the amount in the alert's currency, move its
    last seen time and record a ``ring_grew`` event; announced after the commit like any
    update.

    Only while an alert is being dealt with: open, or (``still_worked``, the caller knows its
    case is active) taken into a case. Per growth, in order: None when the alert is closed
    (the caller raises the new activity anew); else the alert and whether it changed (the
    same ring again: not).

    A busy hub's ring gathers thousands of transfers, and a scan every 6 hours grows it again.
    What the alert lacks is found in the database (``_ring_rows_add``), not by reading the
    ring's transfers, the alert's members and links back; and when the alert links every
    transfer the ring had before (it took the ring each time: the caller gives ``added``),
    only the transfers added are read, and only the members they involve or the alert does not
    name yet are looked at: every earlier transfer came with its accounts named and their
    roles merged and the seen times widened, so the others' rows would not change, and the
    result is the same as reading the whole ring. One statement per growth (and the alert's
    save), whatever the ring's size; the alerts locked in one."""
    if not growths:
        return []
    with db_transaction.atomic():
        alerts = (
            Alert.objects.select_related("rule_version")
            .select_for_update()
            .order_by("pk")
            .in_bulk({growth.alert_id for growth in growths})
        )
        ratings = _hub_ratings(alerts.values())
        results: list[tuple[Alert, bool] | None] = []
        events: list[AlertEvent] = []
        changed: dict[int, Alert] = {}
        for growth in growths:
            alert = alerts[growth.alert_id]
            if not (alert.is_open or (growth.still_worked and alert.status == AlertStatus.IN_CASE)):
                results.append(None)
                continue
            added = _ring_rows_add(alert, growth.ring, _only_added(growth))
            joined = added.joined
            if not added.linked and not joined:
                results.append((alert, False))
                continue
            if added.span is not None:
                alert.first_seen_at = min(alert.first_seen_at, added.span[0])
                alert.last_seen_at = max(alert.last_seen_at, added.span[1])
            version = alert.rule_version
            alert.reassess(
                rule_severity=version.severity,
                rule_score=version.score,
                risk_rating=ratings.get(alert.pk) or RiskRating.LOW,
            )
            alert.save()
            events.append(
                AlertEvent(
                    alert=alert,
                    type=AlertEventType.RING_GREW,
                    parameters={
                        "finding": growth.summary,
                        "details": growth.details,
                        "members_added": joined,
                        "transactions_added": added.linked,
                    },
                )
            )
            changed[alert.pk] = alert
            results.append((alert, True))
        AlertEvent.objects.bulk_create(events)
        live.alerts_announce(updated=list(changed.values()))
    return results


def _hub_ratings(alerts) -> dict[int, str | None]:
    """By alert id: its subject account's risk rating (one query)."""
    alerts = list(alerts)
    rows = Account.objects.filter(
        partner_id__in={alert.partner_id for alert in alerts},
        external_id__in={alert.account_external_id for alert in alerts},
    ).values_list("partner_id", "external_id", "profile__risk_rating")
    by_account = {(partner, account): rating for partner, account, rating in rows}
    return {
        alert.pk: by_account.get((alert.partner_id, alert.account_external_id)) for alert in alerts
    }


def _only_added(growth: RingGrowth) -> tuple[UUID, ...] | None:
    """The ring's transfers ``added``, in the ring's order (None: read the whole ring)."""
    if not growth.added:
        return None
    added = set(growth.added)
    return tuple(tx_id for tx_id in growth.ring.transaction_ids if tx_id in added)


@dataclass(frozen=True)
class _RowsAdded:
    linked: int  # transfers newly linked
    joined: list[str]  # accounts newly named, sorted
    span: tuple[datetime, datetime] | None  # the ring's first and last transfer


# One ring on one alert, in the database: the only place the members' roles are decided, for a
# ring raised or attached (``alert_ring_attach``) as for one grown. ``ring``: the ring's
# transfers that are the partner's, in the ring's order (only those added, with
# ``only_added``). ``fresh``: those the alert does not link yet, linked without a hit (their
# amount in the alert's currency is added to the alert's). ``wanted``: each member with its
# role read from those transfers (the hub; a sender only pays, a receiver only is paid, anyone
# else passes money through); with ``only_added``, only the hub, the members those transfers
# involve and those the alert does not name. ``moved``: a member already named by an earlier
# ring takes the merged role (the hub stays the hub, the same role stays; a sender who is now
# paid, or a receiver who now pays, becomes an intermediary). ``joined``: members not named
# yet, in the ring's order.
# "Not linked / not named yet" is a probe of the unique index per row (OFFSET 0 keeps the
# planner from an anti-join it may run as a nested loop when its statistics lag the rows).
_RING_ROWS_ADD = """
WITH ring AS MATERIALIZED (
    SELECT t.id, t.amount, t.currency, t.occurred_at,
           t.originator_account_id AS source, t.beneficiary_account_id AS target, u.n
    FROM unnest(%(transactions)s::uuid[]) WITH ORDINALITY AS u(id, n)
    JOIN transactions_transaction t ON t.id = u.id
    WHERE t.partner_id = %(partner)s
), fresh AS (
    INSERT INTO alerts_alerttransaction (alert_id, transaction_id, hit_id, suppressed, created_at)
    SELECT %(alert)s, ring.id, NULL, false, %(now)s
    FROM ring
    WHERE NOT EXISTS (
        SELECT 1 FROM alerts_alerttransaction l
        WHERE l.alert_id = %(alert)s AND l.transaction_id = ring.id
        OFFSET 0
    )
    ORDER BY ring.n
    RETURNING transaction_id
), wanted AS MATERIALIZED (
    SELECT m.account, m.n,
           CASE WHEN m.account = %(hub)s THEN %(role_hub)s
                WHEN sends.account IS NOT NULL AND receives.account IS NULL THEN %(role_sender)s
                WHEN receives.account IS NOT NULL AND sends.account IS NULL THEN %(role_receiver)s
                ELSE %(role_intermediary)s END AS role
    FROM unnest(%(members)s::text[]) WITH ORDINALITY AS m(account, n)
    LEFT JOIN (SELECT DISTINCT source AS account FROM ring) AS sends ON sends.account = m.account
    LEFT JOIN (SELECT DISTINCT target AS account FROM ring) AS receives
        ON receives.account = m.account
    WHERE NOT %(only_added)s OR m.account = %(hub)s OR sends.account IS NOT NULL
       OR receives.account IS NOT NULL
       OR NOT EXISTS (
           SELECT 1 FROM alerts_alertmember named
           WHERE named.alert_id = %(alert)s AND named.account_external_id = m.account
           OFFSET 0
       )
), moved AS (
    UPDATE alerts_alertmember named
    SET role = CASE WHEN %(role_hub)s IN (named.role, wanted.role) THEN %(role_hub)s
                    ELSE %(role_intermediary)s END
    FROM wanted
    WHERE named.alert_id = %(alert)s AND named.account_external_id = wanted.account
      AND named.role <> wanted.role
      AND named.role <> CASE WHEN %(role_hub)s IN (named.role, wanted.role) THEN %(role_hub)s
                             ELSE %(role_intermediary)s END
    RETURNING named.id
), joined AS (
    INSERT INTO alerts_alertmember (alert_id, account_external_id, role, created_at)
    SELECT %(alert)s, wanted.account, wanted.role, %(now)s
    FROM wanted
    WHERE NOT EXISTS (
        SELECT 1 FROM alerts_alertmember named
        WHERE named.alert_id = %(alert)s AND named.account_external_id = wanted.account
        OFFSET 0
    )
    ORDER BY wanted.n
    RETURNING account_external_id
)
SELECT (SELECT count(*) FROM fresh),
       (SELECT coalesce(sum(ring.amount), 0) FROM fresh JOIN ring ON ring.id = fresh.transaction_id
        WHERE ring.currency = %(currency)s),
       (SELECT coalesce(array_agg(account_external_id), '{}') FROM joined),
       (SELECT count(*) FROM moved),
       (SELECT min(occurred_at) FROM ring),
       (SELECT max(occurred_at) FROM ring)
"""


def _ring_rows_add(alert: Alert, ring: Ring, added: tuple[UUID, ...] | None) -> _RowsAdded:
    """Link the ring's transfers the alert lacks (among ``added`` only, when given), adding
    them to its amount (in memory; the caller saves), name the members it lacks and merge the
    roles of those it names: one statement, reading back one row whatever the ring's size."""
    with connection.cursor() as cursor:
        cursor.execute(
            _RING_ROWS_ADD,
            {
                "transactions": list(ring.transaction_ids if added is None else added),
                "only_added": added is not None,
                "members": list(dict.fromkeys((ring.hub, *ring.members))),
                "hub": ring.hub,
                "partner": alert.partner_id,
                "alert": alert.pk,
                "now": timezone.now(),
                "currency": alert.currency,
                **{f"role_{role.value}": role.value for role in MemberRole},
            },
        )
        linked, amount, joined, _moved, first, last = cursor.fetchone()
    alert.amount_involved += amount
    return _RowsAdded(
        linked=linked,
        joined=sorted(joined),
        span=(first, last) if first is not None else None,
    )

"""Continuous screening, end to end: when a list gains or changes entries, every known customer
and counterparty is screened against those entries (the screening app records the matches),
and each new match becomes an alert on the accounts concerned, under the screening rule its
list kind falls under (sanctions or PEP), for investigators to work like any other.

The screening app sits below alerts, so it announces the change (``list_changed``) and this
module, above both, does the rest in a background task.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from django.db import transaction as db_transaction

from alerts.services import AlertChanges, Finding, alerts_from_findings
from sentinel.screening.choices import PartyKind
from sentinel.screening.default_rules import RULE_FOR_LIST_KIND
from sentinel.screening.models import ListImport, ScreeningMatch
from sentinel.screening.rescreening import screening_rescreen
from transactions.selectors import counterparty_accounts, customer_accounts


def list_change_rescreen(*, list_import_id: int) -> AlertChanges:
    """Screen known parties against what the import added or changed, and raise alerts for
    the new matches, in one transaction: a failure keeps neither, and the task's retry does
    both. The import row is locked first, so two runs for one import (a retry racing the
    first) take turns and the second finds nothing new."""
    with db_transaction.atomic():
        list_import = ListImport.objects.select_for_update().filter(pk=list_import_id).first()
        if list_import is None:
            return AlertChanges()
        matches = screening_rescreen(list_import=list_import)
        return alerts_from_findings(findings=list(match_findings(matches)))


def match_findings(matches: Sequence[ScreeningMatch]) -> Iterator[Finding]:
    """One finding per match and account concerned: a customer's own accounts, or the
    accounts that dealt with a counterparty."""
    by_customer = customer_accounts(
        customer_ids=[m.customer_id for m in matches if m.party_kind == PartyKind.CUSTOMER]
    )
    by_name = counterparty_accounts(
        names=[m.party_name for m in matches if m.party_kind == PartyKind.COUNTERPARTY]
    )
    for match in matches:
        entry = match.entry
        rule_code = RULE_FOR_LIST_KIND[entry.screening_list.kind]
        if match.party_kind == PartyKind.CUSTOMER:
            accounts = by_customer.get(match.customer_id, [])
            who = f"Customer {match.party_name!r}"
        else:
            accounts = by_name.get(match.party_name, [])
            who = f"Counterparty {match.party_name!r}, dealt with by this account,"
        summary = (
            f"{who} matches {entry.screening_list.name} entry {entry.source_id} "
            f"(score {match.score}), found when the list changed"
        )
        details = {
            "match_id": match.pk,
            "list_import_id": match.list_import_id,
            "party_name": match.party_name,
            "party_country": match.party_country,
            **match.explanation,
        }
        for account in accounts:
            yield Finding(
                rule_code=rule_code,
                partner_id=account.partner_id,
                account_external_id=account.account_external_id,
                customer_external_id=account.customer_external_id,
                summary=summary,
                details=details,
            )

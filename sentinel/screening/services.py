"""Writes of the screening app: importing a list file as a diff, and four eyes on removals.

An import never replaces a list silently. Entries new in the file are added and changed ones
updated at once (the list screens more, or more precisely); entries the file no longer holds
stay in force until another compliance officer approves their removal, as list removals in
rules do (docs/security.md § Four eyes). Every line of the diff is an ``EntryChange`` row.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction as db_transaction
from django.utils import timezone

from rules.choices import ListKind as RuleListKind
from rules.models import ListEntry, RuleChange, RuleList
from rules.selectors import list_exempting_rules
from rules.services import list_entries_edit

from . import runtime
from .choices import ChangeAction, ListKind, RemovalState
from .formats import ParsedEntry, parse_list
from .matching.index import party_key
from .models import EntryChange, FalsePositive, ListImport, ScreeningEntry, ScreeningList
from .signals import list_changed

APPROVE_PERMISSION = "screening.approve_listimport"


def _stored(entry: ScreeningEntry) -> dict:
    return {
        "entry_type": entry.entry_type,
        "names": entry.names,
        "birth_dates": entry.birth_dates,
        "nationalities": entry.nationalities,
        "addresses": entry.addresses,
        "programmes": entry.programmes,
        "remarks": entry.remarks,
    }


@db_transaction.atomic
def screening_list_import(
    *,
    list_name: str,
    source: str,
    content: bytes,
    kind: str = ListKind.SANCTIONS,
    file_name: str = "",
    actor=None,
) -> ListImport:
    """Read ``content`` as ``source`` (ListFormatError and nothing changed if it is not) and
    apply it to the list named ``list_name`` (created on its first import) as a diff."""
    parsed = parse_list(source, content)
    by_id: dict[str, ParsedEntry] = {}
    for entry in parsed.entries:
        if entry.source_id in by_id:
            raise ValidationError(f"The file lists the identifier {entry.source_id} twice.")
        by_id[entry.source_id] = entry
    screening_list, _ = ScreeningList.objects.select_for_update().get_or_create(
        name=list_name, defaults={"source": source, "kind": kind}
    )
    if screening_list.source != source:
        raise ValidationError(
            f"{list_name} is imported from {screening_list.get_source_display()}, not {source}."
        )
    if screening_list.imports.filter(removal_state=RemovalState.PENDING).exists():
        raise ValidationError(
            f"An earlier import of {list_name} has removals awaiting approval: approve or "
            "reject them first."
        )
    existing = {entry.source_id: entry for entry in screening_list.entries.all()}
    list_import = ListImport.objects.create(
        screening_list=screening_list,
        version=parsed.version[:100],
        file_name=file_name[:200],
        file_sha256=hashlib.sha256(content).hexdigest(),
        imported_by=actor,
    )
    changes: list[EntryChange] = []
    for source_id, parsed_entry in by_id.items():
        stored = existing.get(source_id)
        after = parsed_entry.content()
        if stored is None:
            stored = ScreeningEntry.objects.create(
                screening_list=screening_list,
                source_id=source_id,
                fingerprint=parsed_entry.fingerprint(),
                **after,
            )
            changes.append(EntryChange(entry=stored, action=ChangeAction.ADDED, after=after))
            list_import.added += 1
        elif stored.fingerprint != parsed_entry.fingerprint() or stored.removed_at:
            before = _stored(stored)
            for field, value in after.items():
                setattr(stored, field, value)
            stored.fingerprint, stored.removed_at = parsed_entry.fingerprint(), None
            stored.save()
            changes.append(
                EntryChange(entry=stored, action=ChangeAction.CHANGED, before=before, after=after)
            )
            list_import.changed += 1
        else:
            list_import.unchanged += 1
    for source_id, stored in existing.items():
        if source_id not in by_id and stored.removed_at is None:
            changes.append(
                EntryChange(entry=stored, action=ChangeAction.REMOVED, before=_stored(stored))
            )
            list_import.removed += 1
    for change in changes:
        change.list_import = list_import
    EntryChange.objects.bulk_create(changes)
    if list_import.removed:
        if actor is None:
            raise ValidationError(
                "Removing entries needs an officer who asks, and another who approves."
            )
        list_import.removal_state = RemovalState.PENDING
    list_import.save()
    screening_list.version, screening_list.imported_at = parsed.version[:100], timezone.now()
    screening_list.save(update_fields=["version", "imported_at"])
    if list_import.added or list_import.changed:
        runtime.lists_changed()
        # Continuous screening: known parties against these entries only, in the background
        # (the pipeline listens: sentinel/pipeline/rescreening.py).
        db_transaction.on_commit(
            lambda: list_changed.send(sender=ListImport, list_import=list_import)
        )
    return list_import


def list_import_refusal(*, list_import: ListImport, approver) -> str | None:
    """Why this person may not decide on these removals, or None."""
    if not approver.has_perm(APPROVE_PERMISSION):
        return "Only compliance officers approve list removals."
    if approver.pk == list_import.imported_by_id:
        return "Removals must be approved by another officer than the one who imported the file."
    if list_import.removal_state != RemovalState.PENDING:
        return "These removals are not awaiting approval."
    return None


@db_transaction.atomic
def list_import_decide(*, list_import: ListImport, approver, approve: bool) -> ListImport:
    """Approve (the entries leave the list) or reject (they stay) an import's removals."""
    list_import = ListImport.objects.select_for_update().get(pk=list_import.pk)
    if refusal := list_import_refusal(list_import=list_import, approver=approver):
        raise PermissionDenied(refusal)
    if approve:
        removed_ids = list_import.changes.filter(action=ChangeAction.REMOVED).values("entry_id")
        ScreeningEntry.objects.filter(pk__in=removed_ids).update(removed_at=timezone.now())
        runtime.lists_changed()
    list_import.removal_state = RemovalState.APPROVED if approve else RemovalState.REJECTED
    list_import.decided_by, list_import.decided_at = approver, timezone.now()
    list_import.save(update_fields=["removal_state", "decided_by", "decided_at"])
    return list_import


# --- Remembered decisions ------------------------------------------------------------------------

APPROVE_FALSE_POSITIVE = "screening.approve_falsepositive"


def false_positive_request(
    *, entry: ScreeningEntry, party_name: str, party_country: str = "", reason: str, actor
) -> FalsePositive:
    """Ask that this party stop matching this entry; it takes effect once another approves."""
    if not reason.strip():
        raise ValidationError("Say why the party is not the listed one.")
    return FalsePositive.objects.create(
        entry=entry,
        entry_fingerprint=entry.fingerprint,
        party_key=party_key(party_name, party_country),
        party_name=party_name[:200],
        reason=reason.strip(),
        requested_by=actor,
    )


@db_transaction.atomic
def false_positive_approve(*, decision: FalsePositive, approver) -> FalsePositive:
    decision = FalsePositive.objects.select_for_update().get(pk=decision.pk)
    if not approver.has_perm(APPROVE_FALSE_POSITIVE):
        raise PermissionDenied("Only senior investigators and officers approve false positives.")
    if approver.pk == decision.requested_by_id:
        raise PermissionDenied("A false positive must be approved by another person.")
    if decision.approved_at is not None:
        raise ValidationError("This decision is approved already.")
    decision.approved_by, decision.approved_at = approver, timezone.now()
    decision.save(update_fields=["approved_by", "approved_at"])
    runtime.lists_changed()  # every process reloads the pairs it leaves out
    return decision


# --- A true match onto a watch list --------------------------------------------------------------

WATCH_PERMISSION = "rules.add_listentry"


def watch_lists() -> list[RuleList]:
    """The name lists a true match may go on: none that a rule reads as exemptions."""
    lists = RuleList.objects.filter(kind=RuleListKind.NAME).order_by("name")
    return [rule_list for rule_list in lists if not list_exempting_rules(rule_list=rule_list)]


def true_match_watch(
    *, entry: ScreeningEntry, party_name: str, rule_list: RuleList, actor
) -> RuleChange | None:
    """Put a party confirmed to be the listed one on a name list of the rule engine (e.g.
    ``sanctions``, which ``sanctions_name_match`` reads), so its next payment is caught by
    name whatever the matching threshold. Never onto a list a rule reads as exemptions. Goes
    through the rules app's list service (recorded as a list change); returns its request if
    the addition must wait for a second officer, None when it applied at once."""
    if not actor.has_perm(WATCH_PERMISSION):
        raise PermissionDenied("Only compliance officers edit the rule engine's lists.")
    if rule_list.kind != RuleListKind.NAME:
        raise ValidationError(f"{rule_list.name} is not a list of names.")
    if list_exempting_rules(rule_list=rule_list):
        raise ValidationError(
            f"{rule_list.name} exempts from rules: a listed party never goes on it."
        )
    name = party_name.strip()
    if not name:
        raise ValidationError("Name the party.")
    note = f"True match to {entry.screening_list} #{entry.source_id} ({entry.primary_name})"
    return list_entries_edit(
        rule_list=rule_list,
        actor=actor,
        added=[ListEntry(value=name[:200], note=note[:200])],
        comment=f"Screening: {name} confirmed as {entry.primary_name}",
    )

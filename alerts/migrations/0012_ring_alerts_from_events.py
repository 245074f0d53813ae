"""Ring alerts raised before alerts carried their ring: members and transfers as rows.

Until 0011 a window-scan ring alert named its members and transfers only in its first event
(``parameters.details``: ``network_pattern_id``, ``hub``, ``members``, ``transactions``). Each
such alert now gets an ``AlertMember`` per member (role read from the transfers, by the rule
``alerts.services.rings`` applies) and an ``AlertTransaction`` without a hit per
transfer still stored, its currency the first transfer's, its amount their total in it, and
its priority raised by the amount's term.
Transfers pruned since are left out (the event still names them). Reversing drops the rows
(the events keep what they held).
"""

from decimal import Decimal

from django.db import migrations


def _role(account, hub, sends, receives):
    if account == hub:
        return "hub"
    if account in sends and account not in receives:
        return "sender"
    if account in receives and account not in sends:
        return "receiver"
    return "intermediary"


def forward(apps, schema_editor):
    Alert = apps.get_model("alerts", "Alert")
    AlertEvent = apps.get_model("alerts", "AlertEvent")
    AlertMember = apps.get_model("alerts", "AlertMember")
    AlertTransaction = apps.get_model("alerts", "AlertTransaction")
    Transaction = apps.get_model("transactions", "Transaction")
    events = AlertEvent.objects.filter(parameters__details__has_key="network_pattern_id").order_by(
        "alert_id", "created_at", "id"
    )
    seen = set()
    for event in events.iterator():
        if event.alert_id in seen:
            continue  # the first event of each alert holds its ring
        seen.add(event.alert_id)
        details = event.parameters["details"]
        alert = Alert.objects.get(pk=event.alert_id)
        if AlertMember.objects.filter(alert=alert).exists():
            continue
        transfers = sorted(
            Transaction.objects.filter(
                partner_id=alert.partner_id, pk__in=details.get("transactions") or []
            ),
            key=lambda tx: (tx.occurred_at, str(tx.pk)),
        )
        sends = {tx.originator_account_id for tx in transfers}
        receives = {tx.beneficiary_account_id for tx in transfers}
        hub = details.get("hub") or alert.account_external_id
        members = dict.fromkeys([hub, *(details.get("members") or [])])
        AlertMember.objects.bulk_create(
            AlertMember(
                alert=alert, account_external_id=account, role=_role(account, hub, sends, receives)
            )
            for account in members
            if account
        )
        linked = set(
            AlertTransaction.objects.filter(alert=alert).values_list("transaction_id", flat=True)
        )
        fresh = [tx for tx in transfers if tx.pk not in linked]
        AlertTransaction.objects.bulk_create(
            AlertTransaction(alert=alert, transaction=tx) for tx in fresh
        )
        if transfers and not linked:
            alert.currency = transfers[0].currency
            alert.amount_involved = sum(
                (tx.amount for tx in transfers if tx.currency == alert.currency), Decimal(0)
            )
            if alert.amount_involved > 0:  # the priority's amount term (alerts.models), 0 before
                alert.priority += min(250, 25 * max(0, alert.amount_involved.adjusted()))
            alert.save(update_fields=["currency", "amount_involved", "priority"])


def backward(apps, schema_editor):
    AlertMember = apps.get_model("alerts", "AlertMember")
    AlertTransaction = apps.get_model("alerts", "AlertTransaction")
    AlertMember.objects.all().delete()
    AlertTransaction.objects.filter(hit__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0011_alert_rings"),
        ("transactions", "0010_account_counterparties"),
    ]

    operations = [migrations.RunPython(forward, backward)]

"""Each edge's currency and value in the partner's reporting currency (docs/network.md § The
searches), so the value-loop walk bands hops as it goes instead of following every edge of its
week. Existing edges get their transaction's currency and the value the scoring path gives a
new one (the rules' amount_base: transactions.selectors.amounts_converted, at the stored
rates), empty where no rate converts it."""

from django.db import migrations, models

from transactions.selectors import amounts_converted, rate_date

_CHUNK = 5000

_CURRENCIES = """
UPDATE network_transfer t SET currency = x.currency
FROM transactions_transaction x WHERE x.id = t.transaction_id
"""
# The same currency needs no rate: its value is its amount.
_SAME = """
UPDATE network_transfer t SET value = t.amount
FROM transactions_partnerbank p
WHERE p.id = t.partner_id AND p.reporting_currency = t.currency
"""
_OTHERS = """
SELECT t.transaction_id, t.amount, t.currency, p.reporting_currency, t.occurred_at
FROM network_transfer t JOIN transactions_partnerbank p ON p.id = t.partner_id
WHERE p.reporting_currency <> t.currency AND t.transaction_id > %s
ORDER BY t.transaction_id
LIMIT %s
"""
_VALUES = """
UPDATE network_transfer t SET value = v.value
FROM unnest(%s::uuid[], %s::numeric[]) AS v(id, value)
WHERE t.transaction_id = v.id
"""


def values_fill(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(_CURRENCIES)
        cursor.execute(_SAME)
        after = "00000000-0000-0000-0000-000000000000"
        while True:
            cursor.execute(_OTHERS, [after, _CHUNK])
            rows = cursor.fetchall()
            if not rows:
                return
            converted = amounts_converted(
                [(amount, currency, to, rate_date(at)) for _, amount, currency, to, at in rows]
            )
            kept = [(row[0], c.amount) for row, c in zip(rows, converted, strict=True) if c]
            if kept:
                cursor.execute(_VALUES, [[i for i, _ in kept], [v for _, v in kept]])
            after = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0007_parameter_backtests"),
        ("transactions", "0010_account_counterparties"),
    ]

    operations = [
        migrations.AddField(
            model_name="transfer",
            name="currency",
            field=models.CharField(default="", max_length=3),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="transfer",
            name="value",
            field=models.DecimalField(
                blank=True,
                decimal_places=4,
                help_text="The amount in the partner's reporting currency at its day's rate (the "
                "rules' amount_base); empty when no rate converts it: such a transfer is no hop "
                "of a value loop in another currency.",
                max_digits=24,
                null=True,
            ),
        ),
        migrations.RunPython(values_fill, migrations.RunPython.noop),
    ]

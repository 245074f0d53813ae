"""Each edge's currency and value in the partner's reporting currency (docs/network.md § The
searches), so the value-loop walk bands hops as it goes instead of following every edge of its
week. Existing edges get their transaction's currency and the value the scoring path gave a new
one when this was written (the rules' amount_base, at the stored rates), empty where no rate
converts it.

The conversion is this migration's own copy of the rule transactions.selectors applied then
(docs/currencies.md), on the historical ExchangeRate: a later change to the live rule must not
change what this migration does."""

from datetime import UTC, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from django.conf import settings
from django.db import migrations, models

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

# The rule, as it stood: the pair's rate of the UTC day, else the latest within the age limit
# (on one day staff's before an import, the stored way round before its inverse); else a cross
# rate through the euro; a derived rate (inverse, cross) rounded half-even to 12 significant
# digits; the amount times the rate rounded half-even to the target's minor unit.
_CROSS = "EUR"
_SIGNIFICANT_DIGITS = 12
_SOURCE_RANK = {"manual": 0, "ecb": 1}
_MINOR_UNITS = {  # ISO 4217 decimals other than two
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}


def _rates(exchange_rates, needs, max_age) -> dict:
    """(base, quote) -> [(date, source, rate)] that the needs (from, to, day) may use, newest
    first, the preferred source first: one query."""
    currencies = {currency for need in needs for currency in need[:2]} | {_CROSS}
    days = [need[2] for need in needs]
    rows = exchange_rates.filter(
        date__gte=min(days) - max_age,
        date__lte=max(days),
        base__in=currencies,
        quote__in=currencies,
    ).values_list("date", "base", "quote", "rate", "source")
    pairs: dict = {}
    for day, base, quote, rate, source in rows:
        pairs.setdefault((base, quote), []).append((day, source, rate))
    for stored in pairs.values():
        stored.sort(key=lambda row: (-row[0].toordinal(), _SOURCE_RANK.get(row[1], 9)))
    return pairs


def _significant(value: Decimal) -> Decimal:
    with localcontext() as context:
        context.prec = 40
        exponent = value.adjusted() - _SIGNIFICANT_DIGITS + 1
        return value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_EVEN)


def _leg(pairs: dict, base: str, quote: str, day, max_age) -> Decimal | None:
    best = None
    for inverse, pair in ((False, (base, quote)), (True, (quote, base))):
        for published, source, rate in pairs.get(pair, ()):
            if published > day:
                continue
            if published < day - max_age:
                break
            rank = (published.toordinal(), -_SOURCE_RANK.get(source, 9), not inverse)
            if best is None or rank > best[0]:
                best = (rank, rate, inverse)
            break  # newest first: the first in range is this direction's best
    if best is None:
        return None
    _, rate, inverse = best
    if inverse:
        with localcontext() as context:
            context.prec = 40
            return _significant(1 / rate)
    return rate


def _rate(pairs: dict, source: str, target: str, day, max_age) -> Decimal | None:
    direct = _leg(pairs, source, target, day, max_age)
    if direct is not None or _CROSS in (source, target):
        return direct
    leg_from = _leg(pairs, _CROSS, source, day, max_age)
    leg_to = _leg(pairs, _CROSS, target, day, max_age)
    if leg_from is None or leg_to is None:
        return None
    with localcontext() as context:
        context.prec = 40
        return _significant(leg_to / leg_from)


def _converted(amount: Decimal, rate: Decimal, target: str) -> Decimal:
    with localcontext() as context:
        context.prec = 60
        return (amount * rate).quantize(
            Decimal(1).scaleb(-_MINOR_UNITS.get(target, 2)), rounding=ROUND_HALF_EVEN
        )


def _values(exchange_rates, rows) -> list[tuple]:
    """(transaction id, value) of the rows (id, amount, currency, to, at) a rate converts."""
    max_age = timedelta(days=settings.SENTINEL_EXCHANGE_RATE_MAX_AGE_DAYS)
    needs = [(currency, to, at.astimezone(UTC).date()) for _, _, currency, to, at in rows]
    pairs = _rates(exchange_rates, needs, max_age)
    kept = []
    for (tx_id, amount, _, to, _), need in zip(rows, needs, strict=True):
        rate = _rate(pairs, *need, max_age)
        if rate is not None:
            kept.append((tx_id, _converted(amount, rate, to)))
    return kept


def values_fill(apps, schema_editor) -> None:
    exchange_rates = apps.get_model("transactions", "ExchangeRate").objects.using(
        schema_editor.connection.alias
    )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(_CURRENCIES)
        cursor.execute(_SAME)
        after = "00000000-0000-0000-0000-000000000000"
        while True:
            cursor.execute(_OTHERS, [after, _CHUNK])
            rows = cursor.fetchall()
            if not rows:
                return
            kept = _values(exchange_rates, rows)
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

"""Each account's counterparties, for its whole life, and their count on the profile; the
smallest and largest amount of each activity bucket. Both filled from the transactions
already profiled."""

import django.db.models.deletion
from django.db import migrations, models

# The customer side's account and the counterparty's key (services.profiles
# .transaction_counterparty) of every profiled transaction; a name key as party_name_key.
_FILL = r"""
INSERT INTO transactions_accountcounterparty (account_id, counterparty, first_seen_at)
SELECT a.id, k.counterparty, min(t.occurred_at)
FROM transactions_transaction t
CROSS JOIN LATERAL (
    SELECT CASE WHEN t.direction = 'outbound' THEN t.originator_account_id
                ELSE t.beneficiary_account_id END AS account,
           CASE WHEN t.direction = 'outbound' THEN t.beneficiary_account_id
                ELSE t.originator_account_id END AS other_account,
           lower(regexp_replace(trim(CASE WHEN t.direction = 'outbound'
                THEN t.beneficiary_name ELSE t.originator_name END), '\s+', ' ', 'g')) AS name
) AS s
CROSS JOIN LATERAL (
    SELECT CASE WHEN s.other_account <> '' THEN s.other_account
                WHEN s.name <> '' THEN 'name:' || s.name ELSE '' END AS counterparty
) AS k
JOIN transactions_account a ON a.partner_id = t.partner_id AND a.external_id = s.account
WHERE t.profiled_at IS NOT NULL AND k.counterparty <> ''
GROUP BY a.id, k.counterparty
ON CONFLICT DO NOTHING;

UPDATE transactions_accountprofile p SET counterparty_count = c.n
FROM (SELECT account_id, count(*) AS n FROM transactions_accountcounterparty
      GROUP BY account_id) c
WHERE p.account_id = c.account_id;

WITH ranges AS (
    SELECT a.id AS account_id, t.direction || ':' || t.type || ':' || t.currency AS bucket,
           min(t.amount) AS smallest, max(t.amount) AS largest
    FROM transactions_transaction t
    JOIN transactions_account a ON a.partner_id = t.partner_id AND a.external_id =
        CASE WHEN t.direction = 'outbound' THEN t.originator_account_id
             ELSE t.beneficiary_account_id END
    WHERE t.profiled_at IS NOT NULL AND t.status = 'approved'
    GROUP BY 1, 2
), per_account AS (
    SELECT account_id, jsonb_object_agg(
        bucket, jsonb_build_object('min', smallest::text, 'max', largest::text)) AS patch
    FROM ranges GROUP BY account_id
)
UPDATE transactions_accountprofile p SET activity = (
    SELECT jsonb_object_agg(e.key, e.value || COALESCE(r.patch -> e.key, '{}'::jsonb))
    FROM jsonb_each(p.activity) e
)
FROM per_account r
WHERE p.account_id = r.account_id AND p.activity <> '{}'::jsonb;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("transactions", "0009_exchange_rates_reporting_currency"),
    ]

    operations = [
        migrations.AddField(
            model_name="accountprofile",
            name="counterparty_count",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.CreateModel(
            name="AccountCounterparty",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("counterparty", models.CharField(max_length=210)),
                ("first_seen_at", models.DateTimeField()),
                (
                    "account",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="transactions.account",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("account", "counterparty"), name="account_counterparty_unique"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("counterparty", ""), _negated=True),
                        name="account_counterparty_not_empty",
                    ),
                ],
            },
        ),
        migrations.RunSQL(_FILL, migrations.RunSQL.noop),
    ]

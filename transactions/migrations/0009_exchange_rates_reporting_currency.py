"""Exchange rates per day, and a reporting currency per partner: existing partners report in
the currency of their latest transaction (new ones default to USD)."""

import django.core.validators
from django.db import migrations, models

import transactions.models


def report_in_latest_currency(apps, schema_editor):
    PartnerBank = apps.get_model("transactions", "PartnerBank")
    Transaction = apps.get_model("transactions", "Transaction")
    for partner in PartnerBank.objects.all():
        # One range of the (partner, occurred_at, id) index per partner.
        latest = (
            Transaction.objects.filter(partner=partner)
            .order_by("-occurred_at", "-id")
            .values_list("currency", flat=True)
            .first()
        )
        if latest and latest != partner.reporting_currency:
            partner.reporting_currency = latest
            partner.save(update_fields=["reporting_currency"])


class Migration(migrations.Migration):
    dependencies = [
        ("transactions", "0008_transaction_labels"),
    ]

    operations = [
        migrations.CreateModel(
            name="ExchangeRate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("date", models.DateField()),
                (
                    "base",
                    models.CharField(
                        help_text="ISO 4217 code, e.g. EUR.",
                        max_length=3,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[A-Z]{3}$",
                                "Give a three-letter ISO 4217 code in capitals, such as USD.",
                            )
                        ],
                    ),
                ),
                (
                    "quote",
                    models.CharField(
                        help_text="ISO 4217 code, e.g. USD.",
                        max_length=3,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[A-Z]{3}$",
                                "Give a three-letter ISO 4217 code in capitals, such as USD.",
                            )
                        ],
                    ),
                ),
                (
                    "rate",
                    models.DecimalField(
                        decimal_places=10,
                        help_text="Units of the quote currency for one unit of the base currency.",
                        max_digits=20,
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("manual", "Entered by staff"),
                            ("ecb", "ECB euro reference rate"),
                        ],
                        default="manual",
                        max_length=10,
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "ordering": ["-date", "base", "quote", "source"],
            },
        ),
        migrations.AddField(
            model_name="partnerbank",
            name="reporting_currency",
            field=models.CharField(
                default="USD",
                help_text="ISO 4217 code: rules' amount_base and its SARs' local amounts are in it.",
                max_length=3,
                validators=[transactions.models.validate_currency],
            ),
        ),
        migrations.AddConstraint(
            model_name="partnerbank",
            constraint=models.CheckConstraint(
                condition=models.Q(("reporting_currency__regex", "^[A-Z]{3}$")),
                name="partner_reporting_currency_iso",
            ),
        ),
        migrations.AddConstraint(
            model_name="exchangerate",
            constraint=models.UniqueConstraint(
                fields=("date", "base", "quote", "source"),
                name="exchange_rate_unique_per_day_and_source",
                violation_error_message="This source already has a rate for this pair that day.",
            ),
        ),
        migrations.AddConstraint(
            model_name="exchangerate",
            constraint=models.CheckConstraint(
                condition=models.Q(("rate__gt", 0)), name="exchange_rate_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="exchangerate",
            constraint=models.CheckConstraint(
                condition=models.Q(("base__regex", "^[A-Z]{3}$"), ("quote__regex", "^[A-Z]{3}$")),
                name="exchange_rate_currencies_iso",
            ),
        ),
        migrations.AddConstraint(
            model_name="exchangerate",
            constraint=models.CheckConstraint(
                condition=models.Q(("base", models.F("quote")), _negated=True),
                name="exchange_rate_two_currencies",
            ),
        ),
        migrations.AddConstraint(
            model_name="exchangerate",
            constraint=models.CheckConstraint(
                condition=models.Q(("source__in", ["manual", "ecb"])),
                name="exchange_rate_source_valid",
            ),
        ),
        migrations.RunPython(report_in_latest_currency, migrations.RunPython.noop),
    ]

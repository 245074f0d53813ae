"""Exchange rates: importing the ECB's reference-rate files, entering rates in the admin, and
the one conversion rule every amount in another currency goes through."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.db import transaction as db_transaction

from sentinel.roles import COMPLIANCE_OFFICER, INVESTIGATOR
from transactions.choices import RateSource
from transactions.models import ExchangeRate, PartnerBank, Transaction
from transactions.selectors import (
    NoRate,
    amount_converted,
    amounts_converted,
    transactions_amount_base,
    transactions_base_values,
)
from transactions.services import RateFileError, exchange_rates_import, transaction_ingest
from transactions.tests.factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"
# In the ECB's layouts; the values are made up for the tests, not the ECB's.
HISTORY = DATA / "eurofxref-hist-sample.csv"
DAILY = DATA / "eurofxref-daily-sample.csv"


def run_import(path: Path | str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("import_rates", str(path), stdout=out)
    return out.getvalue()


def rate(day: date, quote: str, value: str, *, base="EUR", source=RateSource.ECB):
    return ExchangeRate.objects.create(
        date=day, base=base, quote=quote, rate=Decimal(value), source=source
    )


# --- Importing ----------------------------------------------------------------------------------


def test_the_history_imports_every_rate_but_the_missing_ones():
    output = run_import(HISTORY)

    # 4 days x 4 currencies with a rate (CYP is N/A throughout, JPY on the 17th)
    assert output.strip() == "2026-11-17 to 2026-11-20: 15 added, 0 changed, 0 unchanged."
    assert ExchangeRate.objects.count() == 15
    usd = ExchangeRate.objects.get(date=date(2026, 11, 20), quote="USD")
    assert (usd.base, usd.rate, usd.source) == ("EUR", Decimal("1.085"), "ecb")
    assert not ExchangeRate.objects.filter(quote="CYP").exists()
    assert not ExchangeRate.objects.filter(date=date(2026, 11, 17), quote="JPY").exists()


def test_the_daily_file_imports_its_one_day():
    assert "4 added" in run_import(DAILY)
    assert ExchangeRate.objects.get(quote="GBP").date == date(2026, 11, 23)


def test_importing_again_changes_nothing_and_a_corrected_rate_is_counted_as_changed(tmp_path):
    run_import(HISTORY)
    assert run_import(HISTORY).strip().endswith("0 added, 0 changed, 15 unchanged.")

    corrected = tmp_path / "corrected.csv"
    corrected.write_text("Date,USD,SEK,\n2026-11-20,1.0851,11.5000,\n")
    assert "1 added, 1 changed, 0 unchanged" in run_import(corrected)
    assert ExchangeRate.objects.get(date=date(2026, 11, 20), quote="USD").rate == Decimal("1.0851")


def test_a_zip_as_the_ecb_serves_it_is_read(tmp_path):
    import zipfile

    archive = tmp_path / "eurofxref-hist.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(HISTORY, "eurofxref-hist.csv")
    assert "15 added" in run_import(archive)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "The file is empty"),
        ("Day,USD,\n2026-11-20,1.08,\n", "the first column must be 'Date'"),
        ("Date,usd,\n2026-11-20,1.08,\n", "'usd' is not a three-letter ISO 4217 code"),
        ("Date,EUR,\n2026-11-20,1,\n", "EUR is the base of ECB rates"),
        ("Date,USD,USD,\n2026-11-20,1.08,1.08,\n", "USD appears more than once"),
        ("Date,USD,\n20/11/2026,1.08,\n", "Line 2: '20/11/2026' is not a date"),
        ("Date,USD,JPY,\n2026-11-20,1.08,\n", "Line 2: 1 rates for 2 currencies"),
        ("Date,USD,JPY,\n2026-11-20,,1.5,\n", "Line 2, USD: '' is not a positive rate"),
        ("Date,USD,JPY,\n2026-11-20,1.08\n", "Line 2: the line must end with a comma"),
        ("Date,USD,JPY\n2026-11-20,1.08,1.5,\n", "Line 2: 3 rates for 2 currencies"),
        ("Date,USD,\n2026-11-20,1,08,\n", "Line 2: 2 rates for 1 currencies"),
        ("Date,USD,\n2026-11-20,-1.08,\n", "Line 2, USD: '-1.08' is not a positive rate"),
        ("Date,USD,\n2026-11-20,0,\n", "'0' is not a positive rate"),
        ("Date,USD,\n2026-11-20,abc,\n", "'abc' is not a positive rate"),
        ("Date,USD,\n2026-11-20,1.00000000001,\n", "more than 10 decimals"),
        ("Date,USD,\n2026-11-20,1.08,\n2026-11-20,1.09,\n", "also on line 2"),
        ("Date,USD,\n2026-11-20,N/A,\n", "The file has no rates"),
    ],
)
def test_a_malformed_file_is_refused_with_its_line_and_changes_nothing(tmp_path, content, problem):
    run_import(HISTORY)
    before = list(ExchangeRate.objects.values_list("date", "quote", "rate"))
    # A good line before the bad one is not stored either.
    bad = tmp_path / "bad.csv"
    bad.write_text(content)

    with pytest.raises(CommandError, match=problem) as refused:
        run_import(bad)

    assert "Nothing was imported" in str(refused.value)
    assert list(ExchangeRate.objects.values_list("date", "quote", "rate")) == before


def test_a_bad_line_after_good_ones_leaves_the_good_ones_out():
    text = "Date,USD,\n2026-11-21,1.09,\n2026-11-22,oops,\n"
    with pytest.raises(RateFileError, match="Line 3"):
        exchange_rates_import(text=text)
    assert not ExchangeRate.objects.exists()


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read it"):
        run_import(tmp_path / "nope.csv")


def test_the_database_refuses_impossible_rates():
    for fields in (
        {"rate": Decimal("0")},
        {"base": "eur"},
        {"quote": "EUR"},  # a currency against itself
        {"source": "guess"},
    ):
        values = {"date": date(2026, 11, 20), "base": "EUR", "quote": "USD", "rate": 1, **fields}
        values.setdefault("source", RateSource.ECB)
        with pytest.raises(IntegrityError), db_transaction.atomic():
            ExchangeRate.objects.create(**values)
    rate(date(2026, 11, 20), "USD", "1.08")
    with pytest.raises(IntegrityError), db_transaction.atomic():
        rate(date(2026, 11, 20), "USD", "1.09")


# --- Entering rates in the admin, audited ------------------------------------------------------


def staff(username: str, group: str) -> User:
    user = User.objects.create_user(username, password="x" * 20, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return User.objects.get(pk=user.pk)


def test_a_compliance_officer_enters_a_rate_in_the_admin(client):
    client.force_login(staff("olga", COMPLIANCE_OFFICER))
    response = client.post(
        "/admin/transactions/exchangerate/add/",
        {"date": "2026-11-21", "base": "USD", "quote": "BRL", "rate": "5.4321", "source": "manual"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    stored = ExchangeRate.objects.get(base="USD", quote="BRL")
    assert (stored.rate, stored.source) == (Decimal("5.4321"), "manual")


def test_the_admin_form_refuses_a_malformed_currency():
    from django.core.exceptions import ValidationError

    bad = ExchangeRate(date=date(2026, 11, 21), base="US", quote="BRL", rate=Decimal("5"))
    with pytest.raises(ValidationError, match="three-letter ISO 4217 code"):
        bad.full_clean()


def test_investigators_read_rates_but_may_not_change_them(client):
    client.force_login(staff("ivan", INVESTIGATOR))
    assert client.get("/admin/transactions/exchangerate/").status_code == 200
    refused = client.post(
        "/admin/transactions/exchangerate/add/",
        {"date": "2026-11-21", "base": "USD", "quote": "BRL", "rate": "5", "source": "manual"},
    )
    assert refused.status_code == 403
    assert not ExchangeRate.objects.exists()


def test_a_partner_reports_in_usd_unless_told_otherwise():
    from django.core.exceptions import ValidationError

    partner = PartnerBankFactory()
    assert partner.reporting_currency == "USD"
    partner.reporting_currency = "XYZ"
    with pytest.raises(ValidationError, match="not an ISO 4217 currency"):
        partner.full_clean()


# --- Converting --------------------------------------------------------------------------------

FRIDAY = date(2026, 11, 20)


@pytest.fixture
def ecb_rates():
    run_import(HISTORY)


def test_the_same_currency_needs_no_rate():
    converted = amount_converted(Decimal("12.345"), "USD", "USD", FRIDAY)
    assert converted.amount == Decimal("12.34")  # half-even to the cent
    assert converted.rate.rate == 1 and converted.rate.date is None


def test_a_direct_rate_of_the_day(ecb_rates):
    converted = amount_converted(Decimal("1000"), "EUR", "USD", FRIDAY)
    assert converted.amount == Decimal("1085.00") and converted.currency == "USD"
    assert (converted.rate.rate, converted.rate.date, converted.rate.source) == (
        Decimal("1.085"),
        FRIDAY,
        "ecb",
    )
    assert converted.rate.describe() == "1.085 USD per EUR (ecb, 2026-11-20)"


def test_the_inverse_pair_is_rounded_to_twelve_digits_and_reproduces_the_amount(ecb_rates):
    converted = amount_converted(Decimal("1085.00"), "USD", "EUR", FRIDAY)
    assert converted.rate.rate == Decimal("0.921658986175")  # 1 / 1.085
    assert converted.rate.via == "inverse"
    assert converted.amount == (Decimal("1085.00") * converted.rate.rate).quantize(Decimal("0.01"))
    assert converted.amount == Decimal("1000.00")


def test_a_cross_rate_goes_through_the_euro_and_rounds_to_the_target_minor_unit(ecb_rates):
    converted = amount_converted(Decimal("100.00"), "GBP", "JPY", FRIDAY)
    # 160.25 / 0.85 = 188.5294117647...; JPY has no decimals
    assert converted.rate.rate == Decimal("188.529411765")
    assert converted.rate.via == "EUR" and converted.rate.source == "ecb"
    assert converted.amount == Decimal("18853")


def test_half_even_rounding_at_the_minor_unit():
    rate(FRIDAY, "USD", "2", base="GBP")
    assert amount_converted(Decimal("0.125"), "GBP", "USD", FRIDAY).amount == Decimal("0.25")
    assert amount_converted(Decimal("1.0025"), "GBP", "USD", FRIDAY).amount == Decimal("2.00")
    assert amount_converted(Decimal("1.0075"), "GBP", "USD", FRIDAY).amount == Decimal("2.02")


def test_a_weekend_uses_fridays_rate_and_a_stale_rate_is_no_rate(ecb_rates, settings):
    sunday = date(2026, 11, 22)
    assert amount_converted(Decimal("1"), "EUR", "USD", sunday).rate.date == FRIDAY

    settings.SENTINEL_EXCHANGE_RATE_MAX_AGE_DAYS = 1
    missing = amount_converted(Decimal("1"), "EUR", "USD", sunday)
    assert isinstance(missing, NoRate) and not missing
    assert str(missing) == "no EUR→USD exchange rate on 2026-11-22 or in the 1 days before"
    assert not hasattr(missing, "amount")  # never a silent 0


def test_a_day_before_any_rate_and_an_unknown_currency_have_no_rate(ecb_rates):
    assert not amount_converted(Decimal("1"), "EUR", "USD", date(2026, 1, 1))
    assert not amount_converted(Decimal("1"), "BRL", "USD", FRIDAY)
    # The 17th has a USD rate but no JPY one, and the file has nothing before it
    jpy = amount_converted(Decimal("1"), "JPY", "USD", date(2026, 11, 17))
    assert isinstance(jpy, NoRate)
    assert amount_converted(Decimal("1"), "JPY", "USD", date(2026, 11, 18)).rate.via == "EUR"


def test_a_rate_entered_by_staff_wins_over_the_import_of_the_same_day(ecb_rates):
    rate(FRIDAY, "USD", "1.0900", source=RateSource.MANUAL)
    converted = amount_converted(Decimal("100"), "EUR", "USD", FRIDAY)
    assert (converted.amount, converted.rate.source) == (Decimal("109.00"), "manual")


def test_a_direct_pair_wins_over_a_cross_rate():
    rate(FRIDAY, "USD", "1.08")
    rate(FRIDAY, "GBP", "0.85")
    rate(FRIDAY, "USD", "1.30", base="GBP", source=RateSource.MANUAL)
    converted = amount_converted(Decimal("10"), "GBP", "USD", FRIDAY)
    assert (converted.amount, converted.rate.via) == (Decimal("13.00"), "")


def test_many_conversions_take_one_query(ecb_rates, django_assert_num_queries):
    items = [
        (Decimal(n), currency, to, date(2026, 11, 17 + n % 6))
        for n in range(1, 200)
        for currency, to in (("USD", "GBP"), ("JPY", "EUR"), ("CHF", "USD"))
    ]
    with django_assert_num_queries(1):
        results = amounts_converted(items)
    assert len(results) == len(items)
    assert all(result for result, item in zip(results, items, strict=True) if item[1] != "JPY")


def test_transactions_convert_into_their_partners_reporting_currency(ecb_rates):
    euro_bank = PartnerBank.objects.create(name="Euro Bank", slug="euro", reporting_currency="EUR")
    dollar_bank = PartnerBankFactory()
    saturday = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)
    for partner, amount, currency in (
        (euro_bank, "108.50", "USD"),
        (dollar_bank, "100.00", "EUR"),
        (dollar_bank, "5.00", "USD"),
        (euro_bank, "1.00", "BRL"),
    ):
        payload = transaction_payload(
            amount=amount, currency=currency, occurred_at=saturday.isoformat()
        )
        assert transaction_ingest(partner=partner, payload=payload).status == "created"
    transactions = list(Transaction.objects.order_by("external_id"))

    base = transactions_amount_base(transactions)

    assert [(c.amount, c.currency) for c in base[:3]] == [
        (Decimal("100.00"), "EUR"),
        (Decimal("108.50"), "USD"),
        (Decimal("5.00"), "USD"),
    ]
    assert base[0].rate.date == FRIDAY
    assert isinstance(base[3], NoRate) and base[3].to_currency == "EUR"


def test_bare_base_values_are_the_conversions_amounts_and_read_no_rate_for_the_same_currency(
    ecb_rates, django_assert_num_queries
):
    euro_bank = PartnerBank.objects.create(name="Euro Bank", slug="euro", reporting_currency="EUR")
    for amount, currency in (("108.50", "USD"), ("100.00", "EUR"), ("1.00", "BRL")):
        payload = transaction_payload(
            amount=amount, currency=currency, occurred_at="2026-11-21T23:30:00Z"
        )
        assert transaction_ingest(partner=euro_bank, payload=payload).status == "created"
    transactions = list(Transaction.objects.select_related("partner").order_by("external_id"))

    values = transactions_base_values(transactions)

    assert values == [Decimal("100.00"), Decimal("100.00"), None]  # BRL: no rate, no value
    assert values == [c.amount if c else None for c in transactions_amount_base(transactions)]
    with django_assert_num_queries(0):  # partners loaded, all in the reporting currency
        assert transactions_base_values(transactions[1:2]) == [Decimal("100.00")]

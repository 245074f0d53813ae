"""What every report is filtered by: a partner (or all) and a period of whole days.

A period runs from the first day's midnight to the midnight after the last day, in the site's
time zone (settings.TIME_ZONE, UTC): ``from=2026-11-01&to=2026-11-30`` is
[2026-11-01T00:00Z, 2026-12-01T00:00Z). Without dates, the last 30 days up to today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django import forms
from django.utils import timezone

from transactions.models import PartnerBank

DEFAULT_DAYS = 30
MAX_DAYS = 366  # a year and a day: the queries stay bounded


@dataclass(frozen=True)
class ReportFilters:
    partner: PartnerBank | None
    first_day: date
    last_day: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=timezone.get_default_timezone())

    @property
    def end(self) -> datetime:
        """Exclusive: the midnight after the last day."""
        return self.start + timedelta(days=self.days)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def query(self) -> str:
        """The filters as a query string, so links and the CSV keep them."""
        values = {"from": self.first_day.isoformat(), "to": self.last_day.isoformat()}
        if self.partner is not None:
            values = {"partner": self.partner.slug, **values}
        return urlencode(values)


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last 30 days, today included."""
    today = today or timezone.localdate()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


class ReportFilterForm(forms.Form):
    """``?partner=<slug>&from=YYYY-MM-DD&to=YYYY-MM-DD``; every field optional."""

    partner = forms.ModelChoiceField(
        queryset=PartnerBank.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="All partners",
    )

    def __init__(self, data=None, **kwargs) -> None:
        super().__init__(data, **kwargs)
        first, last = default_period()
        # "from" is a Python keyword, so these two are added by name.
        self.fields["from"] = forms.DateField(
            required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
        )
        self.fields["to"] = forms.DateField(
            required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
        )
        self.fields["from"].widget.attrs["placeholder"] = first.isoformat()
        self.fields["to"].widget.attrs["placeholder"] = last.isoformat()

    def clean(self) -> dict:
        cleaned = super().clean()
        first, last = cleaned.get("from"), cleaned.get("to")
        if "from" in self.errors or "to" in self.errors:
            return cleaned
        default_first, default_last = default_period()
        if first is None and last is None:
            first, last = default_first, default_last
        elif first is None:
            first = last - timedelta(days=DEFAULT_DAYS - 1)
        elif last is None:
            last = max(first, default_last)
        if first > last:
            raise forms.ValidationError("'From' must be on or before 'To'.")
        if (last - first).days + 1 > MAX_DAYS:
            raise forms.ValidationError(f"A period is at most {MAX_DAYS} days.")
        cleaned["from"], cleaned["to"] = first, last
        return cleaned

    def filters(self) -> ReportFilters:
        """Only after ``is_valid()``."""
        data = self.cleaned_data
        return ReportFilters(partner=data["partner"], first_day=data["from"], last_day=data["to"])

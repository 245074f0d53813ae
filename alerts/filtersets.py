"""One FilterSet per model, shared by the API and the HTML lists."""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone

from rules.choices import Severity, Typology
from rules.models import Rule
from transactions.filtersets import UtcDateTimeFilter
from transactions.models import PartnerBank

from .choices import AlertStatus
from .models import Alert, Snooze

MAX_PRIORITY = 1_000_000


# How old an alert is (since it was raised): bucket -> (newer than, older than), either open.
AGES: dict[str, tuple[timedelta | None, timedelta | None]] = {
    "1h": (timedelta(hours=1), None),
    "24h": (timedelta(hours=24), None),
    "7d": (timedelta(days=7), None),
    "over_7d": (None, timedelta(days=7)),
    "over_30d": (None, timedelta(days=30)),
}
AGE_CHOICES = (
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("over_7d", "Older than 7 days"),
    ("over_30d", "Older than 30 days"),
)


class AlertFilterSet(django_filters.FilterSet):
    # Several values of one parameter (?status=new&status=acknowledged) mean any of them.
    status = django_filters.MultipleChoiceFilter(choices=AlertStatus.choices, distinct=False)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, distinct=False)
    rule = django_filters.CharFilter(method="filter_rule", label="Rule code")
    partner = django_filters.CharFilter(method="filter_partner", label="Partner slug")
    subject = django_filters.CharFilter(
        field_name="account_external_id", label="Customer-side account id"
    )
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")
    min_priority = django_filters.NumberFilter(
        field_name="priority", lookup_expr="gte", min_value=0, max_value=MAX_PRIORITY
    )
    typology = django_filters.ChoiceFilter(
        choices=Typology.choices,
        field_name="rule_version__typologies",
        method="filter_typology",
        label="Typology of the rule version that last hit",
    )
    assignee = django_filters.CharFilter(
        method="filter_assignee",
        label='Assignee of its case: a username, "me", or "none" (no case, or unassigned)',
    )
    age = django_filters.ChoiceFilter(
        choices=AGE_CHOICES, method="filter_age", label="Raised within, or longer ago than"
    )

    class Meta:
        model = Alert
        fields = ["status", "severity"]

    # The code and the slug are looked up in a scalar subquery, not a join: PostgreSQL then
    # compares the alerts' own column with one value and walks alert_rule_queue (or
    # alert_partner_queue) in queue order, where a join had it walk every alert by priority
    # looking for a rare rule's (seconds, with a million alerts).
    def filter_rule(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(rule_id=Subquery(Rule.objects.filter(code=value).values("pk")))

    def filter_partner(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        partner = PartnerBank.objects.filter(slug=value).values("pk")
        return queryset.filter(partner_id=Subquery(partner))

    def filter_typology(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(rule_version__typologies__contains=[value])

    def filter_assignee(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Alerts have no assignee of their own: whoever works the case they belong to, which
        # PostgreSQL copies onto the alert (Alert.case_assignee), so that "none" over a
        # million alerts is a column test, not an anti-join with every case link.
        if value == "none":
            return queryset.filter(case_assignee__isnull=True)
        if value == "me":
            user = getattr(self.request, "user", None)
            return queryset.filter(case_assignee_id=getattr(user, "pk", None))
        return queryset.filter(case_assignee__username=value)

    def filter_age(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        newer_than, older_than = AGES[value]
        now = timezone.now()
        if newer_than is not None:
            queryset = queryset.filter(created_at__gte=now - newer_than)
        if older_than is not None:
            queryset = queryset.filter(created_at__lt=now - older_than)
        return queryset


class SnoozeFilterSet(django_filters.FilterSet):
    active = django_filters.BooleanFilter(method="filter_active", label="In force now")
    rule = django_filters.CharFilter(field_name="rule__code", label="Rule code")
    partner = django_filters.CharFilter(field_name="partner__slug", label="Partner slug")
    subject = django_filters.CharFilter(
        field_name="account_external_id", label="Customer-side account id"
    )

    class Meta:
        model = Snooze
        fields = ["active", "rule", "partner", "subject"]

    def filter_active(self, queryset, name, value):
        in_force = Q(pk__in=Snooze.objects.active(timezone.now()).values("pk"))
        return queryset.filter(in_force) if value else queryset.exclude(in_force)

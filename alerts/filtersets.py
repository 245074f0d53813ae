"""One FilterSet per model, shared by the API and the HTML lists."""

import django_filters
from django.db.models import Q
from django.utils import timezone

from rules.choices import Severity
from transactions.filtersets import UtcDateTimeFilter

from .choices import AlertStatus
from .models import Alert, Snooze

MAX_PRIORITY = 1_000_000


class AlertFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AlertStatus.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    rule = django_filters.CharFilter(field_name="rule__code", label="Rule code")
    partner = django_filters.CharFilter(field_name="partner__slug", label="Partner slug")
    subject = django_filters.CharFilter(
        field_name="account_external_id", label="Customer-side account id"
    )
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")
    min_priority = django_filters.NumberFilter(
        field_name="priority", lookup_expr="gte", min_value=0, max_value=MAX_PRIORITY
    )

    class Meta:
        model = Alert
        fields = ["status", "severity"]


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

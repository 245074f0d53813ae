"""One FilterSet for cases, shared by the staff API and the queue page."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet

from rules.choices import Severity, Typology

from .choices import ACTIVE_STATUSES, CaseStatus, SlaState
from .models import Case, CaseAlert, CaseSubject

MAX_PRIORITY = 1_000_000
SORTS = (
    ("priority", "priority"),
    ("due_at", "due"),
    ("created_at", "created"),
    ("updated_at", "updated"),
    ("id", "id"),
)


class CaseFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices, distinct=False)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, distinct=False)
    min_priority = django_filters.NumberFilter(
        field_name="priority", lookup_expr="gte", min_value=0, max_value=MAX_PRIORITY
    )
    max_priority = django_filters.NumberFilter(
        field_name="priority", lookup_expr="lte", min_value=0, max_value=MAX_PRIORITY
    )
    assignee = django_filters.CharFilter(
        method="filter_assignee", label='Assignee username, "me" or "none"'
    )
    team = django_filters.CharFilter(field_name="team__slug", label="Team slug")
    partner = django_filters.CharFilter(field_name="partner__slug", label="Partner slug")
    rule = django_filters.CharFilter(method="filter_rule", label="Rule code of one of its alerts")
    typology = django_filters.ChoiceFilter(
        choices=Typology.choices, method="filter_typology", label="Typology of one of its rules"
    )
    sla = django_filters.ChoiceFilter(
        choices=SlaState.choices, method="filter_sla", label="SLA state (active cases)"
    )
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")
    subject = django_filters.CharFilter(
        method="filter_subject", label="Customer id, or customer-side account id of its alerts"
    )
    tag = django_filters.CharFilter(method="filter_tag", label="Tag")
    ordering = django_filters.OrderingFilter(fields=SORTS, label="Sort")

    class Meta:
        model = Case
        fields: list[str] = []

    def filter_assignee(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value == "me":
            user = getattr(self.request, "user", None)
            return queryset.filter(assignee_id=getattr(user, "pk", None))
        return queryset.filter(assignee__username=value)

    def filter_rule(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(_with_alert(alert__rule__code=value))

    def filter_typology(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(_with_alert(alert__rule_version__typologies__contains=[value]))

    def filter_sla(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.sla_state(value)

    def filter_subject(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        linked = CaseSubject.objects.filter(
            Q(customer_external_id=value) | Q(account_external_id=value), case=OuterRef("pk")
        )
        return queryset.filter(
            Q(customer_external_id=value)
            | Q(account_external_id=value)
            | _with_alert(alert__account_external_id=value)
            | Exists(linked)
        )

    def filter_tag(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(tags__contains=[value.strip().lower()])


def _with_alert(**lookups) -> Exists:
    return Exists(CaseAlert.objects.filter(case=OuterRef("pk"), **lookups))


# Saved views of the queue page: name -> (label, query parameters).
SAVED_VIEWS: dict[str, tuple[str, dict[str, str | list[str]]]] = {
    "mine": ("My cases", {"assignee": "me", "status": [str(s) for s in ACTIVE_STATUSES]}),
    "unassigned": ("Unassigned", {"assignee": "none", "status": [CaseStatus.OPEN.value]}),
    "overdue": ("Overdue", {"sla": SlaState.OVERDUE.value}),
}


def queue_parameters(query) -> dict:
    """The queue page's filters: active cases unless a status (or a saved view) says otherwise."""
    data = query.copy()
    view = data.get("view")
    if view in SAVED_VIEWS:
        for key, value in SAVED_VIEWS[view][1].items():
            if isinstance(value, list):
                data.setlist(key, value)
            else:
                data[key] = value
    if not data.getlist("status") and not data.get("sla"):
        data.setlist("status", [str(s) for s in ACTIVE_STATUSES])
    return data

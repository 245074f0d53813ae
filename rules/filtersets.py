"""One FilterSet per model, shared by the API and the HTML lists."""

import django_filters

from .choices import RuleStatus, Severity, Typology
from .models import Rule


class RuleFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RuleStatus.choices)
    severity = django_filters.ChoiceFilter(field_name="version__severity", choices=Severity.choices)
    typology = django_filters.ChoiceFilter(choices=Typology.choices, method="filter_typology")
    code = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Rule
        fields = ["status", "code"]

    def filter_typology(self, queryset, name, value):
        return queryset.filter(version__typologies__contains=[value])

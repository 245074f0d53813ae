"""The rule pages' URLs. They live under the admin (/admin/rules/rule/…, /admin/rules/rulelist/…)
so they share its login, look and URL names (``admin:rules_rule_try``…): RuleAdmin and
RuleListAdmin put these patterns in front of their own, wrapped by the admin site's staff check.
"""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.urls import URLPattern, path

from . import views


def rule_urlpatterns(site: AdminSite) -> list[URLPattern]:
    staff = site.admin_view
    return [
        path("validate/", staff(views.rule_validate), name="rules_rule_validate"),
        path("<int:rule_id>/status/", staff(views.rule_status), name="rules_rule_status"),
        path(
            "change/<int:change_id>/<str:decision>/",
            staff(views.change_decide),
            name="rules_rule_decide",
        ),
        path(
            "<int:rule_id>/restore/<int:version_id>/",
            staff(views.rule_restore),
            name="rules_rule_restore",
        ),
        path("<int:rule_id>/try/", staff(views.rule_try), name="rules_rule_try"),
        path("<int:rule_id>/backtest/", staff(views.rule_backtest), name="rules_rule_backtest"),
        path(
            "backtest/<int:backtest_id>/",
            staff(views.backtest_detail),
            name="rules_backtest_detail",
        ),
    ]


def list_urlpatterns(site: AdminSite) -> list[URLPattern]:
    staff = site.admin_view
    return [
        path("<int:list_id>/import/", staff(views.list_import), name="rules_rulelist_import"),
        path("<int:list_id>/export/", staff(views.list_export), name="rules_rulelist_export"),
    ]

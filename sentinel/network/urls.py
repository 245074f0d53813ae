"""The detector parameters' action URLs. They live under the admin
(/admin/network/parameterversion/…) so they share its login, look and URL names
(``admin:network_parameters_request``…): ParameterVersionAdmin puts them in front of its own,
wrapped by the admin site's staff check."""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.urls import URLPattern, path

from . import views


def parameter_urlpatterns(site: AdminSite) -> list[URLPattern]:
    staff = site.admin_view
    return [
        path(
            "<int:version_id>/request/",
            staff(views.parameter_request),
            name="network_parameters_request",
        ),
        path(
            "<int:version_id>/backtest/",
            staff(views.parameter_backtest),
            name="network_parameters_backtest",
        ),
        path(
            "backtest/<int:backtest_id>/",
            staff(views.parameter_backtest_detail),
            name="network_parameters_backtest_detail",
        ),
        path("rollback/", staff(views.parameter_rollback), name="network_parameters_rollback"),
        path(
            "change/<int:change_id>/<str:decision>/",
            staff(views.parameter_decide),
            name="network_parameters_decide",
        ),
    ]

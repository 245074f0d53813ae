from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from cases.urls import account_urlpatterns
from sentinel import views
from sentinel.api.metrics import metrics

admin.site.site_header = "Sentinel administration"
admin.site.site_title = "Sentinel"

api_v1 = [
    path("", include("sentinel.pipeline.api.urls")),
    path("", include("rules.api.urls")),
    path("", include("alerts.api.urls")),
    path("", include("cases.api.urls")),
    path("", include("sentinel.monitoring.api.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("sentinel.accounts.urls")),
    path("cases/", include("cases.urls")),
    path("accounts/", include((account_urlpatterns, "accounts"))),
    path("alerts/", include("alerts.urls")),
    path("monitor/", include("sentinel.monitoring.urls")),
    path("models/", include("sentinel.riskmodel.urls")),
    path("audit/", include("sentinel.audit.urls")),
    path("reports/", include("sentinel.reports.urls")),
    path("screening/", include("sentinel.screening.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

handler404 = "sentinel.views.not_found"
handler500 = "sentinel.views.server_error"

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "sentinel.reports"
    label = "reports"
    verbose_name = "Reports"

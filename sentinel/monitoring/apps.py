from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "sentinel.monitoring"
    label = "monitoring"
    verbose_name = "Operational monitor"

from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "sentinel.network"
    label = "network"
    verbose_name = "Network analytics"

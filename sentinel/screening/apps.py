from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "sentinel.screening"
    label = "screening"
    verbose_name = "Name screening"

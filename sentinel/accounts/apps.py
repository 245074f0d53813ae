from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "sentinel.accounts"
    label = "accounts"
    verbose_name = "Staff access"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (session start time on every login)

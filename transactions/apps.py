from django.apps import AppConfig


class TransactionsConfig(AppConfig):
    name = "transactions"
    verbose_name = "Partners and transactions"

    def ready(self) -> None:
        from .api import schema  # noqa: F401  registers the OpenAPI security scheme

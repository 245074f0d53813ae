from django.apps import AppConfig
from django.db.models.signals import post_migrate

from sentinel import tracing


class SentinelConfig(AppConfig):
    name = "sentinel"
    verbose_name = "Sentinel"

    def ready(self) -> None:
        from .roles import sync_group_permissions

        post_migrate.connect(sync_group_permissions, dispatch_uid="sentinel-roles")
        # Every process (web, worker, beat, commands) loads the apps: tracing is switched on
        # here, once, when SENTINEL_OTEL asks for it (docs/operations.md § Tracing).
        tracing.enable_from_settings()

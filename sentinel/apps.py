from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SentinelConfig(AppConfig):
    name = "sentinel"
    verbose_name = "Sentinel"

    def ready(self) -> None:
        from .roles import sync_group_permissions

        post_migrate.connect(sync_group_permissions, dispatch_uid="sentinel-roles")

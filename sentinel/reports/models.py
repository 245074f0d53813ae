"""The reports keep no data of their own: they read alerts, cases and decisions."""

from django.db import models


class Report(models.Model):
    """No table: the anchor of the reports' permission (a Django permission needs a model)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_reports", "See the management reports")]

    def __str__(self) -> str:
        return "Reports"

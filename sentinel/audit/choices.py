from django.db import models


class AuditAction(models.TextChoices):
    INSERT = "insert", "Created"
    UPDATE = "update", "Changed"
    DELETE = "delete", "Deleted"
    LOGIN = "login", "Logged in"
    LOGIN_FAILED = "login_failed", "Failed login"
    PERMISSION_DENIED = "permission_denied", "Permission denied"


ROW_ACTIONS = (AuditAction.INSERT, AuditAction.UPDATE, AuditAction.DELETE)
ACCESS_ACTIONS = (AuditAction.LOGIN, AuditAction.LOGIN_FAILED, AuditAction.PERMISSION_DENIED)

"""The one switch that keeps demo data out of production: ``settings.SENTINEL_ALLOW_DEMO``.

The demo creates partner banks with live API keys, staff users whose password it prints, and
fictional entries on the sanctions list. An explicit setting (True in ``local`` and ``test``,
False in ``base`` and ``production``) says where that is allowed, rather than guessing from
``DEBUG`` (False in tests too) or the settings module's name (a deployment may name its own).
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError


def refuse_unless_demo_allowed(command: str) -> None:
    """Raise ``CommandError`` before ``command`` writes anything, unless demo data is allowed."""
    if not settings.SENTINEL_ALLOW_DEMO:
        raise CommandError(
            f"{command} refuses to run: these settings do not allow demo data "
            "(SENTINEL_ALLOW_DEMO is not True; it is False in production)."
        )

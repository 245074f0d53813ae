"""`manage.py drf_create_token <username>`, as Django REST framework's command of that name
answers ("Generated token <key> for user <username>"), for scripts written against it.

DRF kept one reusable plain-text token per user; ours are stored hashed and expire
(docs/security.md § API tokens), so an existing token cannot be shown again: each call issues
a new one. ``-r/--reset`` also revokes the user's other tokens, as DRF's replaced the old one.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from sentinel.accounts.models import ApiToken
from sentinel.accounts.services import api_token_create, api_token_revoke


class Command(BaseCommand):
    help = "Issue a staff API token for a user (DRF's drf_create_token, with expiring tokens)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "-r", "--reset", action="store_true", help="revoke the user's other tokens first"
        )

    def handle(self, *args, username: str, reset: bool, **options) -> None:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None or not user.is_staff:
            raise CommandError(f"No active staff user called {username!r}.")
        if reset:
            for token in ApiToken.objects.filter(user=user, revoked_at__isnull=True):
                api_token_revoke(token=token)
        _, secret = api_token_create(user=user, name="drf_create_token")
        self.stdout.write(f"Generated token {secret} for user {username}")

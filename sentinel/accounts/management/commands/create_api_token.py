"""Issue a staff API token from the command line; the secret is printed once."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from sentinel.accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a staff user (shown once; only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="script", help="what the token is for")
        parser.add_argument("--days", type=int, default=None, help="lifetime (default 30)")

    def handle(self, *args, username, name, days, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None or not user.is_staff:
            raise CommandError(f"No active staff user called {username!r}.")
        if days is not None and days <= 0:
            raise CommandError("--days must be at least 1.")
        lifetime = timedelta(days=days) if days is not None else None
        token, secret = api_token_create(user=user, name=name, lifetime=lifetime)
        self.stdout.write(json.dumps({"token": secret, "expires_at": token.expires_at.isoformat()}))

"""DRF authentication for staff scripts: `Authorization: Token <secret>`, hashed and expiring."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from .services import api_token_authenticate


class StaffTokenAuthentication(authentication.TokenAuthentication):
    """DRF's header format, checked against sentinel.accounts.ApiToken (digests only)."""

    def authenticate_credentials(self, key):
        token = api_token_authenticate(secret=key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        return token.user, token

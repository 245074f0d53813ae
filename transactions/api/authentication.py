"""Partner request signing: HMAC-SHA256 over "<timestamp>.<raw body>" with the key's secret."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from transactions.keyring import live_key
from transactions.models import ApiKey, PartnerBank

KEY_HEADER = "HTTP_X_SENTINEL_KEY"
TIMESTAMP_HEADER = "HTTP_X_SENTINEL_TIMESTAMP"
SIGNATURE_HEADER = "HTTP_X_SENTINEL_SIGNATURE"


@dataclass(frozen=True)
class PartnerPrincipal:
    """request.user for a signed partner request: a partner, not a person."""

    partner: PartnerBank
    api_key: ApiKey
    is_authenticated: bool = True
    is_active: bool = True
    is_staff: bool = False
    is_superuser: bool = False

    @property
    def pk(self) -> str:
        return f"partner:{self.partner.pk}"

    def has_perm(self, perm: str, obj=None) -> bool:
        return False


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The signature a partner sends: lowercase hex HMAC-SHA256(secret, "<timestamp>.<body>")."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class PartnerSignatureAuthentication(BaseAuthentication):
    """Authenticates requests carrying X-Sentinel-Key; others fall through to session/token."""

    def authenticate(self, request):
        meta = request.META
        key_id = meta.get(KEY_HEADER)
        if key_id is None:
            return None
        timestamp = meta.get(TIMESTAMP_HEADER, "")
        signature = meta.get(SIGNATURE_HEADER, "")
        if not timestamp or not signature:
            raise exceptions.AuthenticationFailed(
                "Signed requests need X-Sentinel-Key, X-Sentinel-Timestamp and "
                "X-Sentinel-Signature."
            )
        self._check_timestamp(timestamp)
        live = live_key(key_id)
        # One message for unknown, revoked and bad signatures: nothing to learn by probing.
        failure = "Unknown or revoked key, or the signature does not match."
        if live is None:
            raise exceptions.AuthenticationFailed(failure)
        api_key, secret = live
        expected = sign(secret, timestamp, request._request.body)
        if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
            raise exceptions.AuthenticationFailed(failure)
        if not api_key.allows_address(meta.get("REMOTE_ADDR")):
            raise exceptions.PermissionDenied("This key may not be used from this address.")
        return PartnerPrincipal(partner=api_key.partner, api_key=api_key), api_key

    def authenticate_header(self, request) -> str:
        return 'Sentinel-HMAC-SHA256 realm="api"'

    @staticmethod
    def _check_timestamp(raw: str) -> None:
        if not raw.isdigit() or len(raw) > 12:
            raise exceptions.AuthenticationFailed(
                "X-Sentinel-Timestamp must be an integer number of Unix seconds."
            )
        skew = abs(time.time() - int(raw))
        if skew > settings.SENTINEL_SIGNATURE_WINDOW_SECONDS:
            raise exceptions.AuthenticationFailed(
                f"X-Sentinel-Timestamp is {int(skew)} s from the server clock; the limit is "
                f"{settings.SENTINEL_SIGNATURE_WINDOW_SECONDS} s."
            )


def partner_of(request) -> PartnerBank | None:
    user = getattr(request, "user", None)
    return user.partner if isinstance(user, PartnerPrincipal) else None

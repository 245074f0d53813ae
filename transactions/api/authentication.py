"""Partner request signing, two versions.

v1 (the contract): HMAC-SHA256(secret, "<timestamp>.<raw body>"). It proves the key holder
wrote this body at about this time, nothing more: method, path and query are not signed and
nothing stops a replay within the timestamp window, so a leaked GET signature reads any GET
for 300 s and a leaked POST can be sent again to another endpoint.

v2 (docs/api.md § Signing, version 2): HMAC-SHA256 over the method, path, raw query string,
timestamp, a nonce and the body's SHA-256, with the signature sent as ``v2=<hex>``. The nonce
is remembered in Redis for the whole timestamp window, so each signed request is accepted once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication

from sentinel.redis import get_redis, redis_key
from transactions.keyring import live_key
from transactions.models import ApiKey, PartnerBank

KEY_HEADER = "HTTP_X_SENTINEL_KEY"
TIMESTAMP_HEADER = "HTTP_X_SENTINEL_TIMESTAMP"
SIGNATURE_HEADER = "HTTP_X_SENTINEL_SIGNATURE"
NONCE_HEADER = "HTTP_X_SENTINEL_NONCE"
V2_PREFIX = "v2="
# Every key create_partner issues is "sk_<slug>_<16 hex>", at most 40 characters. Anything else
# is refused before the key ring (and the database) is asked about it.
KEY_ID_SHAPE = re.compile(r"sk_[A-Za-z0-9_-]{1,37}")
NONCE_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")
SIGNATURE_SHAPE = re.compile(r"[0-9a-fA-F]{64}")


class SignatureRejected(exceptions.AuthenticationFailed):
    """401 whose error body carries a specific code (see sentinel.api.exceptions)."""

    def __init__(self, message: str, error_code: str = "authentication_failed"):
        super().__init__(message)
        self.error_code = error_code


class ReplayProtectionUnavailable(exceptions.APIException):
    """503: a v2 nonce cannot be checked, so the request cannot be shown not to be a replay."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Replay protection is unavailable; retry shortly."
    error_code = "unavailable"
    wait = 5


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
    """The v1 signature: lowercase hex HMAC-SHA256(secret, "<timestamp>.<body>")."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_v2(
    secret: str,
    *,
    method: str,
    path: str,
    query: str,
    timestamp: int | str,
    nonce: str,
    body: bytes,
) -> str:
    """The v2 signature header value: "v2=" + hex HMAC-SHA256 of the canonical request,
    the seven lines "v2", METHOD, path, raw query string, timestamp, nonce, hex SHA-256(body)."""
    canonical = "\n".join(
        [
            "v2",
            method.upper(),
            path,
            query,
            str(timestamp),
            nonce,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    digest = hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    return V2_PREFIX + digest


class PartnerSignatureAuthentication(BaseAuthentication):
    """Authenticates requests carrying X-Sentinel-Key; others fall through to session/token."""

    # One message for unknown, revoked and bad signatures: nothing to learn by probing.
    FAILURE = "Unknown or revoked key, or the signature does not match."

    def authenticate(self, request):
        meta = request.META
        key_id = meta.get(KEY_HEADER)
        if key_id is None:
            return None
        timestamp = meta.get(TIMESTAMP_HEADER, "")
        signature = meta.get(SIGNATURE_HEADER, "").strip()
        if not timestamp or not signature:
            raise exceptions.AuthenticationFailed(
                "Signed requests need X-Sentinel-Key, X-Sentinel-Timestamp and "
                "X-Sentinel-Signature."
            )
        if not KEY_ID_SHAPE.fullmatch(key_id):
            raise SignatureRejected(self.FAILURE)
        self._check_timestamp(timestamp)
        version_2 = signature.startswith(V2_PREFIX)
        nonce = meta.get(NONCE_HEADER, "") if version_2 else ""
        if version_2 and not NONCE_SHAPE.fullmatch(nonce):
            raise SignatureRejected(
                "A v2 signature needs X-Sentinel-Nonce: 16 to 64 of [A-Za-z0-9_-], new for "
                "every request.",
                "nonce_invalid",
            )
        if not version_2 and not settings.SENTINEL_SIGNATURE_V1_ACCEPTED:
            raise SignatureRejected(
                "Only v2 signatures are accepted (docs/api.md).", "signature_version"
            )
        live = live_key(key_id)
        if live is None:
            raise SignatureRejected(self.FAILURE)
        api_key, secret = live
        body = request._request.body
        if version_2:
            expected = sign_v2(
                secret,
                method=request.method,
                path=request._request.path,
                query=meta.get("QUERY_STRING", ""),
                timestamp=timestamp,
                nonce=nonce,
                body=body,
            )
        else:
            expected = sign(secret, timestamp, body)
        if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
            raise SignatureRejected(self.FAILURE)
        if version_2:
            _use_nonce(api_key, nonce)
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


def _use_nonce(api_key: ApiKey, nonce: str) -> None:
    """Record the nonce for as long as its timestamp could be accepted (both sides of the
    window); a nonce already recorded is a replay."""
    window = settings.SENTINEL_SIGNATURE_WINDOW_SECONDS
    try:
        fresh = get_redis().set(redis_key("nonce", api_key.pk, nonce), 1, nx=True, ex=2 * window)
    except Exception as error:  # noqa: BLE001  Redis down: replays cannot be told apart
        raise ReplayProtectionUnavailable() from error
    if not fresh:
        raise SignatureRejected(
            "This nonce was already used: a signed request is accepted once.",
            "signature_replayed",
        )


def partner_of(request) -> PartnerBank | None:
    user = getattr(request, "user", None)
    return user.partner if isinstance(user, PartnerPrincipal) else None

"""Writes for partner banks and their API keys (the admin, create_partner and seed_demo)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from django.utils import timezone
from django.utils.text import slugify

from .. import keyring
from ..models import DEFAULT_REPORTING_CURRENCY, ApiKey, PartnerBank


def partner_create(
    *,
    name: str,
    rate_limit_per_minute: int | None = None,
    reporting_currency: str = DEFAULT_REPORTING_CURRENCY,
) -> PartnerBank:
    name = name.strip()
    base = slugify(name)[:56] or "partner"
    slug, suffix = base, 2
    while PartnerBank.objects.filter(slug=slug).exists():
        slug, suffix = f"{base}-{suffix}", suffix + 1
    partner = PartnerBank(
        name=name,
        slug=slug,
        rate_limit_per_minute=rate_limit_per_minute,
        reporting_currency=reporting_currency,
    )
    partner.full_clean()
    partner.save()
    return partner


def api_key_create(
    *,
    partner: PartnerBank,
    label: str = "",
    allowed_networks: Sequence[str] = (),
    created_by=None,
) -> tuple[ApiKey, str]:
    """A new live key and its secret; the secret is returned once and stored only encrypted."""
    secret = secrets.token_urlsafe(32)
    api_key = ApiKey(
        partner=partner,
        key_id=f"sk_{partner.slug[:12]}_{secrets.token_hex(8)}",
        encrypted_secret=keyring.encrypt_secret(secret),
        label=label,
        allowed_networks=list(allowed_networks),
        created_by=created_by,
    )
    api_key.full_clean()
    api_key.save()
    return api_key, secret


def api_key_revoke(*, api_key: ApiKey, revoked_by=None) -> ApiKey:
    """Revoke at once; requests signed with it answer 401 from the next request on."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.revoked_by = revoked_by
        api_key.save(update_fields=["revoked_at", "revoked_by"])
    keyring.keys_changed()
    return api_key

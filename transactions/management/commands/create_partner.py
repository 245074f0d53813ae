"""``manage.py create_partner "<name>"``: onboard a partner bank with its first API key."""

from __future__ import annotations

import argparse
import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction

from transactions.models import ApiKey, PartnerBank
from transactions.services import api_key_create, partner_create


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


class Command(BaseCommand):
    help = "Create a partner bank and one API key. The secret is printed once, never again."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help='The partner\'s display name, e.g. "Northwind Bank".')
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help='Print one JSON line: {"partner": <slug>, "key_id": ..., "secret": ...}.',
        )
        parser.add_argument(
            "--rate-limit",
            type=_positive_int,
            metavar="N",
            help="Requests per minute across all the partner's keys (default: system-wide).",
        )
        parser.add_argument(
            "--allow-ip",
            action="append",
            default=[],
            metavar="CIDR",
            help="Accept the key only from this address or network; repeat for several.",
        )

    def handle(
        self,
        *args,
        name: str,
        as_json: bool,
        rate_limit: int | None,
        allow_ip: list[str],
        **options,
    ) -> None:
        try:
            # Partner and key together or not at all: a partner without a key is a half-done job.
            with transaction.atomic():
                partner = partner_create(name=name, rate_limit_per_minute=rate_limit)
                api_key, secret = api_key_create(partner=partner, allowed_networks=allow_ip)
        except ValidationError as exc:
            raise CommandError(f"Partner {name!r} not created: {_sentence(exc)}") from exc
        except IntegrityError as exc:  # lost a race with a concurrent create of the same name
            raise CommandError(f"Partner {name!r} not created: it already exists.") from exc
        if as_json:
            line = {"partner": partner.slug, "key_id": api_key.key_id, "secret": secret}
            self.stdout.write(json.dumps(line))
        else:
            self.stdout.write(_human_summary(partner, api_key, secret))


def _sentence(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _human_summary(partner: PartnerBank, api_key: ApiKey, secret: str) -> str:
    networks = ", ".join(api_key.allowed_networks) or "any address"
    return "\n".join(
        [
            f"Created partner {partner.name!r} (slug {partner.slug}).",
            f"  Rate limit: {partner.effective_rate_limit} transactions/minute",
            f"  Allowed from: {networks}",
            f"  Key id: {api_key.key_id}",
            f"  Secret: {secret}",
            "The secret is shown only this once and cannot be recovered: store it now. "
            "If it is lost, create a new key in the admin and revoke this one.",
        ]
    )

"""Realistic transaction payloads and their signatures, made before the clock starts.

Signing happens here, in Python, ahead of each load phase: signing inside the load generator
costs as much CPU as the server it measures (see shared/NOTES.md), and the server's 300 s
signature window is far longer than any phase.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

ACCOUNTS = 500
CURRENCIES = ("USD",) * 8 + ("EUR", "GBP")
TYPES = (
    ("card_payment", 40),
    ("transfer", 25),
    ("p2p", 12),
    ("ach", 8),
    ("wire", 4),
    ("cash_withdrawal", 5),
    ("cash_deposit", 4),
    ("refund", 2),
)
INBOUND_TYPES = {"cash_deposit", "refund"}
CHANNELS = ("mobile", "web", "pos", "atm", "branch", "api")
COUNTRIES = ("US",) * 10 + ("GB", "DE", "SG", "MX", "BR", "IN", "NG", "AE")
MCCS = ("5411", "5812", "5999", "4111", "5732", "7011")


def _account(number: int) -> dict[str, str]:
    """Customer-side party: a fixed pool of accounts so profiles build up as in real traffic."""
    return {
        "account_id": f"ACC{number:05d}",
        "customer_id": f"CUS{number:05d}",
        "name": f"Customer {number}",
        "country": "US",
        "bank": "SENTUS33",
    }


def _counterparty(rng: random.Random) -> dict[str, str]:
    """Somebody at another bank, drawn from a larger pool than our own customers."""
    number = rng.randrange(20_000)
    return {
        "account_id": f"EXT{number:06d}",
        "name": f"Counterparty {number}",
        "country": rng.choice(COUNTRIES),
        "bank": f"BANK{number % 97:02d}XX",
    }


def _amount(rng: random.Random) -> str:
    """Log-normal amounts: mostly tens to hundreds, a long tail into the tens of thousands."""
    return f"{min(rng.lognormvariate(4.5, 1.4), 250_000.0) + 0.01:.2f}"


def transaction(
    rng: random.Random, external_id: str, now: datetime, *, accounts: int = ACCOUNTS
) -> dict:
    """One valid contract payload with a unique external_id, for one of `accounts` customers."""
    tx_type = rng.choices([name for name, _ in TYPES], weights=[w for _, w in TYPES])[0]
    customer = _account(rng.randrange(accounts))
    counterparty = _counterparty(rng)
    inbound = tx_type in INBOUND_TYPES
    payload = {
        "external_id": external_id,
        "occurred_at": (now - timedelta(seconds=rng.randrange(1, 3600)))
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z"),
        "amount": _amount(rng),
        "currency": rng.choice(CURRENCIES),
        "type": tx_type,
        "status": "approved" if rng.random() < 0.95 else "denied",
        "direction": "inbound" if inbound else "outbound",
        "channel": rng.choice(CHANNELS),
        "originator": counterparty if inbound else customer,
        "beneficiary": customer if inbound else counterparty,
        "device_id": f"dev-{rng.randrange(ACCOUNTS * 2)}",
        "ip_address": f"203.0.113.{rng.randrange(1, 255)}",
        "latency_ms": rng.randrange(20, 400),
        "metadata": {"source": "bench"},
    }
    if tx_type == "card_payment":
        payload.update(mcc=rng.choice(MCCS), card_type="visa", acquirer="acq-1")
    return payload


def transactions(prefix: str, count: int, seed: str, *, accounts: int = ACCOUNTS) -> Iterator[dict]:
    """`count` payloads whose external_ids start with `prefix` (unique per phase and partner),
    over `accounts` customer accounts (counterparties come from a larger pool).

    Seeded, so two runs send comparable traffic.
    """
    rng = random.Random(seed)
    now = datetime.now(UTC)
    for number in range(count):
        yield transaction(rng, f"{prefix}-{number:07d}", now, accounts=accounts)


def encode(payload: object) -> bytes:
    """Compact JSON, the bytes that are both sent and signed."""
    return json.dumps(payload, separators=(",", ":")).encode()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The contract's signature: lowercase hex HMAC-SHA256(secret, "<timestamp>.<body>").

    Written from the contract rather than imported from the server, so a server-side slip in
    signing shows up here as 401s instead of agreeing with itself.
    """
    message = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(key_id: str, secret: str, body: bytes) -> dict[str, str]:
    """The contract's signature headers for `body`, timestamped now."""
    timestamp = str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "X-Sentinel-Key": key_id,
        "X-Sentinel-Timestamp": timestamp,
        "X-Sentinel-Signature": sign(secret, timestamp, body),
    }

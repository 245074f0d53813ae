"""``manage.py demo_traffic``: the demo partners keep sending payments, live, through the API.

``make run`` starts it once the system is healthy, so alerts arrive on the investigator's page
while a newcomer watches. The payloads come from ``sentinel.demo.stream`` (pure, seeded);
this command only holds the keys and talks HTTP: each payment is signed with its partner's key
exactly as a partner bank signs it and POSTed to ``/api/v1/transactions/``, so the demo takes
the whole real path (authentication, rate limit, validation, ingest, scoring, alerts).

The schedule is open-loop: payment n is due at start + n / rate, whatever the replies; if the
server falls more than a second behind, the schedule moves on rather than bursting to catch up.
A server that is down, restarting or overloaded (connection error, 502-504, 429) is retried
with exponential backoff up to 30 s, the same payment again (the API is idempotent by
external_id), so the command never crash-loops. A key revoked in the admin is replaced by a new
one; any other refusal is counted and logged, at most one error body every 10 s.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests
from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from sentinel.demo import generator as demo
from sentinel.demo.guard import refuse_unless_demo_allowed
from sentinel.demo.stream import DEFAULT_CUSTOMERS, DEFAULT_SEED, LivePayload, live_traffic
from transactions.api.authentication import sign
from transactions.keyring import decrypt_secret
from transactions.models import ApiKey, PartnerBank
from transactions.services import api_key_create, partner_create

logger = logging.getLogger(__name__)

KEY_LABEL = "demo traffic"
PATH = "/api/v1/transactions/"
REQUEST_TIMEOUT = 10.0
SUMMARY_EVERY = 30.0
ERROR_LOG_EVERY = 10.0
MAX_BACKOFF = 30.0
MAX_LAG = 1.0  # seconds behind schedule before the schedule moves on instead of bursting
UNAVAILABLE = {502, 503, 504}


@dataclass(frozen=True)
class Credentials:
    key_id: str
    secret: str


def demo_credentials(partner_name: str) -> Credentials:
    """The partner's live "demo traffic" key, the partner and the key created when absent."""
    partner = PartnerBank.objects.filter(name=partner_name).first()
    if partner is None:
        spec = next((spec for spec in demo.PARTNERS if spec.name == partner_name), None)
        partner = partner_create(
            name=partner_name, **({"reporting_currency": spec.currency} if spec else {})
        )
    api_key = partner.api_keys.live().filter(label=KEY_LABEL).first()  # the newest
    if api_key is not None:
        try:
            return Credentials(api_key.key_id, decrypt_secret(api_key))
        except InvalidToken:  # SENTINEL_ENCRYPTION_KEY changed since it was made
            logger.warning("Demo key %s cannot be decrypted; creating another.", api_key.key_id)
    api_key, secret = api_key_create(partner=partner, label=KEY_LABEL)
    logger.info("Created demo API key %s for %s.", api_key.key_id, partner_name)
    return Credentials(api_key.key_id, secret)


def is_live(credentials: Credentials) -> bool:
    return ApiKey.objects.live().filter(key_id=credentials.key_id).exists()


@dataclass
class Tally:
    """What was sent and how the API answered, since the start and since the last summary."""

    sent: int = 0
    answers: Counter[int] = field(default_factory=Counter)
    patterns: Counter[str] = field(default_factory=Counter)
    since_summary: int = 0

    def summary(self, per_second: float) -> str:
        created, duplicate = self.answers[201], self.answers[200]
        rejected = {
            status: n for status, n in sorted(self.answers.items()) if status not in (200, 201)
        }
        patterns = ", ".join(f"{name} {n}" for name, n in sorted(self.patterns.items()))
        return (
            f"demo traffic: {self.sent} sent ({per_second:.1f}/s), "
            f"{created} created, {duplicate} duplicate, rejected {rejected or 'none'}; "
            f"typology patterns sent: {patterns or 'none yet'}"
        )


class Command(BaseCommand):
    help = (
        "Stream live demo payments for the demo partners through the signed API "
        "(started by `make run`; DEMO_TRAFFIC=0 switches that off)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="The server's base URL.")
        parser.add_argument(
            "--rate", type=_positive(float), default=3.0, help="Payments per second (default 3)."
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help="The seed_demo population whose customers pay (default 7, seed_demo's default).",
        )
        parser.add_argument(
            "--customers",
            type=_positive(int),
            default=DEFAULT_CUSTOMERS,
            help="Its size, as given to seed_demo (default 300).",
        )
        parser.add_argument("--limit", type=_positive(int), help="Stop after N payments.")
        parser.add_argument("--seconds", type=_positive(float), help="Stop after S seconds.")

    def handle(self, *args, url: str, rate: float, seed: int, customers: int, **options) -> None:
        refuse_unless_demo_allowed("demo_traffic")  # it creates partners and live API keys
        stop = threading.Event()
        restore = _stop_on_signals(stop)
        run = datetime.now(UTC).strftime("%y%m%d%H%M%S%f")[:-3]  # a fresh one per start, to the ms
        try:
            credentials = _credentials_when_ready(stop)
            if credentials is None:
                return
            streamer = Streamer(url=url, credentials=credentials, stop=stop)
            traffic = live_traffic(run=run, seed=seed, customers=customers)
            logger.info("Demo traffic: %.1f payments/s to %s (run %s).", rate, url, run)
            streamer.stream(traffic, rate=rate, limit=options["limit"], seconds=options["seconds"])
        finally:
            restore()


class Streamer:
    """Sends a stream of payments on schedule, signed with each partner's demo key."""

    def __init__(
        self, *, url: str, credentials: dict[str, Credentials], stop: threading.Event
    ) -> None:
        self.endpoint = url.rstrip("/") + PATH
        self.stop = stop
        self.session = requests.Session()  # keep-alive: one connection, not one per payment
        self.credentials = credentials
        self.down_since: float | None = None
        self.last_error_log = float("-inf")
        self.unlogged_errors = 0

    def stream(
        self,
        traffic: Iterator[LivePayload],
        *,
        rate: float,
        limit: int | None = None,
        seconds: float | None = None,
    ) -> Tally:
        tally = Tally()
        began = started = last_summary = time.monotonic()
        deadline = began + seconds if seconds else float("inf")
        previous: str | None = None
        while not self.stop.is_set() and (limit is None or tally.sent < limit):
            lag = time.monotonic() - (started + tally.sent / rate)
            if lag > MAX_LAG:
                started, lag = started + lag, 0.0
            if self.stop.wait(max(0.0, -lag)) or time.monotonic() >= deadline:
                break
            item = next(traffic)  # stamped now, as it leaves
            status = self.deliver(item, deadline)
            if status is None:
                break
            tally.sent, tally.since_summary = tally.sent + 1, tally.since_summary + 1
            tally.answers[status] += 1
            if item.typology and item.typology != previous:
                tally.patterns[item.typology] += 1
            previous = item.typology
            if (now := time.monotonic()) - last_summary >= SUMMARY_EVERY:
                logger.info(tally.summary(tally.since_summary / (now - last_summary)))
                tally.since_summary, last_summary = 0, now
        elapsed = max(time.monotonic() - began, 0.001)
        logger.info("%s; stopped.", tally.summary(tally.sent / elapsed))
        return tally

    def deliver(self, item: LivePayload, deadline: float) -> int | None:
        """POST one payment until the server answers it; its status, None if told to stop."""
        body = json.dumps(item.payload, separators=(",", ":")).encode()
        backoff, replaced = 1.0, False
        while not self.stop.is_set() and time.monotonic() < deadline:
            credentials = self.credentials[item.partner]
            try:
                reply = self.session.post(
                    self.endpoint,
                    data=body,
                    headers=_signed(credentials, body),
                    timeout=REQUEST_TIMEOUT,
                )
            except requests.RequestException as exc:
                self._unavailable(str(exc), min(backoff, deadline - time.monotonic()))
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            if reply.status_code == 429 or reply.status_code in UNAVAILABLE:
                wait = _retry_after(reply) or backoff
                self._unavailable(
                    f"HTTP {reply.status_code}", min(wait, deadline - time.monotonic())
                )
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            self._available()
            if reply.status_code == 401 and not replaced and self._replace_if_revoked(item.partner):
                replaced = True
                continue
            if reply.status_code >= 300:
                self._log_error(item, reply)
            return reply.status_code
        return None

    def _replace_if_revoked(self, partner_name: str) -> bool:
        """A demo key revoked in the admin is replaced; True if there is a new key to try."""
        close_old_connections()
        try:
            if is_live(self.credentials[partner_name]):
                return False  # refused for another reason (clock, inactive partner): logged
            self.credentials[partner_name] = demo_credentials(partner_name)
        except DatabaseError as exc:
            logger.warning("Could not check the demo key of %s: %s", partner_name, exc)
            return False
        logger.warning("The demo key of %s was revoked; sending with a new one.", partner_name)
        return True

    def _unavailable(self, reason: str, wait: float) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
            logger.warning("Server unavailable at %s (%s); retrying.", self.endpoint, reason)
        self.stop.wait(max(0.0, wait))

    def _available(self) -> None:
        if self.down_since is not None:
            downtime = time.monotonic() - self.down_since
            logger.info("Server answering again after %.0f s.", downtime)
            self.down_since = None

    def _log_error(self, item: LivePayload, reply: requests.Response) -> None:
        now = time.monotonic()
        if now - self.last_error_log < ERROR_LOG_EVERY:
            self.unlogged_errors += 1
            return
        more = f" (and {self.unlogged_errors} more not shown)" if self.unlogged_errors else ""
        logger.warning(
            "%s %s for %s of %s: %s%s",
            reply.status_code,
            reply.reason,
            item.payload["external_id"],
            item.partner,
            reply.text[:500],
            more,
        )
        self.last_error_log, self.unlogged_errors = now, 0


def _credentials_when_ready(stop: threading.Event) -> dict[str, Credentials] | None:
    """Every demo partner's key, waiting for the database if it is not up yet."""
    backoff = 1.0
    while not stop.is_set():
        try:
            return {spec.name: demo_credentials(spec.name) for spec in demo.PARTNERS}
        except DatabaseError as exc:
            logger.warning("Database unavailable for the demo keys (%s); retrying.", exc)
            close_old_connections()
            stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
    return None


def _signed(credentials: Credentials, body: bytes) -> dict[str, str]:
    timestamp = int(time.time())
    return {
        "Content-Type": "application/json",
        "X-Sentinel-Key": credentials.key_id,
        "X-Sentinel-Timestamp": str(timestamp),
        "X-Sentinel-Signature": sign(credentials.secret, timestamp, body),
    }


def _retry_after(reply: requests.Response) -> float | None:
    try:
        return min(float(reply.headers.get("Retry-After", "")), MAX_BACKOFF)
    except ValueError:
        return None


def _stop_on_signals(stop: threading.Event) -> Callable[[], None]:
    """SIGINT/SIGTERM finish the request in flight and stop; returns what undoes this."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    for number in previous:
        signal.signal(number, lambda signum, frame: stop.set())

    def restore() -> None:
        for number, handler in previous.items():
            signal.signal(number, handler)

    return restore


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(value: str) -> float:
        number = kind(value)
        if number <= 0:
            raise argparse.ArgumentTypeError("must be more than 0")
        return number

    return parse

"""Fixtures shared by every app's tests: a clean Redis key space and signed API clients."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from channels.layers import channel_layers

from sentinel.redis import get_redis, redis_key
from sentinel.testing import SignedClient


@pytest.fixture(autouse=True)
def clean_redis():
    """Each test starts with an empty key space of its own (the prefix is per xdist worker)."""
    redis = get_redis()
    keys = list(redis.scan_iter(match=redis_key("*"), count=1000))
    if keys:
        redis.delete(*keys)
    yield


@pytest.fixture(autouse=True)
def fresh_rules():
    """Each test scores with the rules, models and network parameters its own database holds,
    not a previous test's."""
    from rules import engine
    from sentinel.network import runtime as network_runtime
    from sentinel.riskmodel import scoring

    engine.forget()
    scoring.forget()
    network_runtime.forget()
    yield
    engine.forget()
    scoring.forget()
    network_runtime.forget()


@pytest.fixture(autouse=True)
def staff_logins_pass_the_second_factor(monkeypatch):
    """`client.force_login(user)` gives the session a staff member has after the login AND
    the one-time-code pages (sentinel.accounts.testing.login_verified), so every existing test
    that logs someone in keeps testing its own page, not the second factor. Tests of the
    second factor log in through the real login page instead."""
    from django.test.client import ClientMixin

    from sentinel.accounts.testing import login_verified

    monkeypatch.setattr(ClientMixin, "force_login", login_verified)


@pytest.fixture
def partner_client(db):
    """A partner with one live key, and a client that signs with it."""
    from transactions.services import api_key_create, partner_create

    def make(name: str = "Acme Bank") -> SignedClient:
        partner = partner_create(name=name)
        api_key, secret = api_key_create(partner=partner)
        client = SignedClient(api_key.key_id, secret)
        client.partner = partner
        client.api_key = api_key
        return client

    return make


# --- Shared data: ../shared/data beside the checkout (external data sets, never copied in) ---

# SENTINEL_SHARED_DATA points elsewhere (a worktree that is not beside shared/).
SHARED_DATA = Path(
    os.environ.get("SENTINEL_SHARED_DATA")
    or Path(__file__).resolve().parent.parent / "shared" / "data"
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` relative to the checkout; skip without it, except under CI=true,
    where its absence is a failure (CI lays shared/ beside the clone)."""
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    if _in_ci():
        pytest.fail(f"CI=true but {SHARED_DATA} is missing.", pytrace=False)
    pytest.skip(f"{SHARED_DATA} is not present beside the checkout")


# --- Browser tests: Playwright driving Debian's Chromium (never `playwright install`) ---

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Path of Debian's Chromium; skip without it, except under CI=true where that is a failure."""
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    if _in_ci():
        pytest.fail(
            f"CI=true but {CHROMIUM} is missing: browser tests must run in CI. "
            "Install it with `apt-get install chromium` (or `make browser` as root).",
            pytrace=False,
        )
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")


@pytest.fixture
def browser(chromium_executable, monkeypatch):
    """A headless Chromium, launched for one test and closed before its database is cleaned.

    Playwright's sync API keeps an asyncio loop running on the test's thread. While it runs,
    Django treats the thread as async: ORM calls raise SynchronousOnlyOperation (so the check is
    switched off here, the test code being synchronous) and `connections` hands out a separate
    connection. Closing the browser per test lets pytest-django flush and restore the database
    on its own connection afterwards; set up database fixtures before `page` for the same reason.
    """
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh tab with no cookies; a step that finds nothing fails within 10 s."""
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


@pytest.fixture
def asgi_server():
    """The real ASGI application (HTTP and websockets) on a port of its own, in this process,
    so it reads the test database: for browser tests and clients that speak real HTTP."""
    import threading

    import uvicorn

    from sentinel.embedded import free_port

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config("sentinel.asgi:application", host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the ASGI server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """Each test its own channel layer. A consumer still receiving when its event loop closed
    (a browser test's server stopping with a websocket open, under load) leaves the
    process's layer mid-receive on that dead loop, and every later receive in the process is
    refused ("Two event loops are trying to receive() on one channel layer at once!")."""
    channel_layers.backends.clear()


@pytest.fixture
def fresh_screening_index():
    """Each test builds its own name-screening index from the lists it loads (the process
    keeps one, rebuilt when a list changes), and leaves none behind."""
    from sentinel.screening import runtime

    runtime.forget()
    yield
    runtime.forget()

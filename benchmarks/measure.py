"""Small timing helpers shared by the benchmark sections.

Every timed request's status is checked: a figure is only kept when every sample of it
answered as expected, otherwise the run stops with BenchmarkFailure (the command exits
non-zero naming the request) instead of printing a time of an error page."""

import statistics
import time
from urllib.parse import urlsplit

from django.core.cache import cache
from django.db import connection

# Percentiles come from at least this many samples (a p95 of 5 samples is their maximum);
# the command lowers it for --quick only.
MIN_RUNS = 30


class BenchmarkFailure(RuntimeError):
    """A timed request or call did not do what it was timed doing."""


def percentile(samples, pct):
    ordered = sorted(samples)
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(samples) -> dict:
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(percentile(samples, 95), 1),
        "runs": len(samples),
    }


def count_queries(fn):
    """Run fn() and return (its result, the SQL statements it executed)."""
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        result = fn()
    return result, statements


def checked_get(client, url, expect=200):
    response = client.get(url)
    if response.status_code != expect:
        raise BenchmarkFailure(
            f"GET {url} answered {response.status_code} (expected {expect}): {response.content[:300]!r}"
        )
    return response


def time_get(client, url, runs, expect=200, budget_seconds=30.0, min_runs=None, cold=False, before=None):
    """Warm up, count the queries of one request, then time at least `min_runs` requests
    (ms) and up to `runs`, stopping after `min_runs` once `budget_seconds` are spent.

    cold: before each timed request Django's cache is cleared and the database connection
    closed, so the request opens a fresh connection and recomputes what it caches;
    PostgreSQL's shared buffers (and the OS page cache) stay as they are.
    before: called (untimed) before each timed request, e.g. to change what it reads."""
    min_runs = MIN_RUNS if min_runs is None else min_runs
    checked_get(client, url, expect)
    response, statements = count_queries(lambda: checked_get(client, url, expect))
    samples = []
    started_all = time.perf_counter()
    for _ in range(max(runs, min_runs)):
        if cold:
            cache.clear()
            connection.close()
        if before is not None:
            before()
        started = time.perf_counter()
        checked_get(client, url, expect)
        samples.append((time.perf_counter() - started) * 1000)
        if len(samples) >= min_runs and time.perf_counter() - started_all > budget_seconds:
            break
    return {**summary(samples), "queries": len(statements), "bytes": len(response.content), "cold": cold}


def follow_next(client, url, hops):
    """The URL of the page `hops` pages after `url`'s, following each page's `next`
    (cursor pagination has no page numbers)."""
    for hop in range(hops):
        nxt = checked_get(client, url).json().get("next")
        if not nxt:
            raise BenchmarkFailure(f"{url} has no next page after {hop} hops of {hops}")
        parts = urlsplit(nxt)
        url = f"{parts.path}?{parts.query}"
    return url


def time_call(fn, runs, min_runs=None):
    """Time a plain function at least `min_runs` times; returns p50/p95 in ms and the
    last result."""
    samples, result = [], None
    for _ in range(max(runs, MIN_RUNS if min_runs is None else min_runs)):
        started = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - started) * 1000)
    return summary(samples), result


class Stopwatch:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        return False

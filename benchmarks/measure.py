"""Small timing helpers shared by the benchmark sections."""

import statistics
import time

from django.db import connection


def percentile(samples, pct):
    ordered = sorted(samples)
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def count_queries(fn):
    """Run fn() and return (its result, the SQL statements it executed)."""
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        result = fn()
    return result, statements


def time_get(client, url, runs, expect=200, budget_seconds=30.0, min_runs=5):
    """Warm up, count the queries of one request, then time up to `runs` requests (ms),
    stopping early (after at least `min_runs`) once `budget_seconds` are spent."""
    response = client.get(url)
    if response.status_code != expect:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    response, statements = count_queries(lambda: client.get(url))
    samples = []
    started_all = time.perf_counter()
    for _ in range(runs):
        started = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        if len(samples) >= min_runs and time.perf_counter() - started_all > budget_seconds:
            break
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(percentile(samples, 95), 1),
        "queries": len(statements),
        "bytes": len(response.content),
        "runs": len(samples),
    }


def time_call(fn, runs):
    """Time a plain function `runs` times; returns p50/p95 in ms and the last result."""
    samples, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(percentile(samples, 95), 1),
        "runs": runs,
    }, result


class Stopwatch:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        return False

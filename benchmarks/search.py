"""The search section (issue 17): the incident list's `search=` filter, the queue page and
GET /api/v1/search/ over the seeded million, for a common word, a rare word, a customer's
name, a name with a typo and a key, each with p50/p95 over at least 30 requests and the
PostgreSQL plans of the list's search statements (EXPLAIN ANALYZE): the probe (how many
match, at most incidents.search.PROBE_LIMIT, from the GIN index or a short scan) and the
page (by id for a rare match, else walking the list's sort index)."""

import re

from django.db import connection

from incidents.models import Incident
from sla.management.commands.bench_sla import PREFIX

from .measure import time_get
from .seed import RARE_WORD

MIN_RUNS = 30
INDEX_NAMES = (
    "incident_search_vector",
    "incident_key_trgm",
    "incident_created",
    "incident_sla_urgency",
    "incidents_incident_pkey",
)


def _terms():
    n = Incident.objects.filter(key__startswith=PREFIX).count()
    key = f"{PREFIX}{max(1, n // 2)}"
    return [
        ("common word", "checkout"),
        ("rare word", RARE_WORD),
        ("customer name", "contoso"),
        ("name with a typo", "Contosso"),
        ("key", key),
        ("two words", "payout delayed"),  # "Payout file" … "is delayed by hours"
    ]


def _statements(client, url):
    """The SQL (with parameters) of one request's incident search statements: the probe
    (how many match, up to incidents.search.PROBE_LIMIT) and the page."""
    statements = []

    def record(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        client.get(url)
    return [
        (sql, params)
        for sql, params in statements
        if sql.lstrip().upper().startswith("SELECT")
        and 'FROM "incidents_incident"' in sql
        and "LIMIT" in sql
        and ("search_vector" in sql or '"incidents_incident"."id" IN' in sql)
    ]


def explain(client, url):
    plans = []
    with connection.cursor() as cursor:
        for sql, params in _statements(client, url):
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    plan = "\n\n".join(plans)
    used = sorted({name for name in INDEX_NAMES if re.search(rf"\b{name}\b", plan)})
    seq = bool(re.search(r"Seq Scan on incidents_incident\b", plan))
    times = [float(t) for t in re.findall(r"Execution Time: ([\d.]+) ms", plan)]
    return {"plan": plan, "indexes": used, "seq_scan_on_incidents": seq, "sql_ms": times}


def search(client, runs, log, min_runs=MIN_RUNS):
    runs = max(runs, min_runs)
    out = {}
    for label, term in _terms():
        row = {"term": term}
        for what, url in (
            ("list", f"/api/v1/incidents/?page_size=50&search={term}"),
            ("queue", f"/incidents/?tab=all&status=&search={term}"),
            ("global", f"/api/v1/search/?q={term}"),
        ):
            row[what] = {"url": url, **time_get(client, url, runs, budget_seconds=120, min_runs=min_runs)}
        row["list_plan"] = explain(client, row["list"]["url"])
        out[label] = row
        lst, glob = row["list"], row["global"]
        log(
            f"  {label:<17} {term!r:<16} list p50 {lst['p50_ms']:6.1f} p95 {lst['p95_ms']:6.1f} ms "
            f"({lst['queries']} q) · queue p95 {row['queue']['p95_ms']:6.1f} ms · "
            f"search API p50 {glob['p50_ms']:6.1f} p95 {glob['p95_ms']:6.1f} ms ({glob['queries']} q) · "
            f"SQL {'+'.join(f'{t:.1f}' for t in row['list_plan']['sql_ms'])} ms, "
            f"plan: {', '.join(row['list_plan']['indexes']) or 'no index named'}"
            f"{' + SEQ SCAN' if row['list_plan'].get('seq_scan_on_incidents') else ''}"
        )
    return out

"""The measured sections. Each returns a dict of figures (and logs as it goes); the command
puts them in one table and one JSON document."""

import io
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from incidents.models import Incident
from sla import services as sla_services
from sla.management.commands.bench_sla import Command as SLABench
from sla.models import SLAEvent, SLATimer

from .measure import Stopwatch, percentile, time_call, time_get


def host():
    hosts = [h for h in settings.ALLOWED_HOSTS if h not in ("*",) and not h.startswith(".")]
    return hosts[0] if hosts else "localhost"


def session_client(user):
    client = Client(HTTP_HOST=host())
    client.force_login(user)
    return client


def token_client(user):
    token, _ = Token.objects.get_or_create(user=user)
    return Client(HTTP_HOST=host(), HTTP_AUTHORIZATION=f"Token {token.key}")


# ------------------------------------------------------------------ incidents
INCIDENT_URLS = [
    ("incident list", "/api/v1/incidents/?page_size=50"),
    ("incident list status=open sort=sla", "/api/v1/incidents/?page_size=50&status=open&sort=sla"),
    ("incident list sla_state=at_risk", "/api/v1/incidents/?page_size=50&sla_state=at_risk"),
    ("incident list priority=P1 team", "/api/v1/incidents/?page_size=50&priority=P1&team={team}"),
    ("incident list search", "/api/v1/incidents/?page_size=50&search=gateway"),
    ("incident list page 100", "/api/v1/incidents/?page_size=50&page=100"),
    ("incident queue page (HTML)", "/incidents/?tab=all"),
]


def incident_list(user, runs, log, team_id):
    client = session_client(user)
    rows = {}
    for label, url in INCIDENT_URLS:
        url = url.format(team=team_id)
        rows[label] = {"url": url, **time_get(client, url, runs)}
        r = rows[label]
        log(f"  {label:<38} p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  {r['queries']} queries")
    return rows


# ------------------------------------------------------------------ boards
def board(bench, user, board, runs, log):
    """Board endpoint and page through the boards app's own timing (p50 and p90)."""
    bench_client = Client(HTTP_HOST=host())
    bench_client.force_login(user)
    out = {}
    for label, url in (("endpoint", f"/api/v1/boards/{board.pk}/"), ("page", f"/boards/{board.pk}/")):
        p50, p90, queries, size = bench._time(bench_client, url, runs)
        out[label] = {"url": url, "p50_ms": round(p50, 1), "p90_ms": round(p90, 1), "queries": queries,
                      "bytes": size}  # fmt: skip
        log(
            f"  board {label:<9} p50 {p50:7.1f} ms  p90 {p90:7.1f} ms  {queries} queries  "
            f"{size / 1024:.0f} KiB"
        )
    return out


# ------------------------------------------------------------------ SLA sweep
def sla_sweep(n_catch_up, catch_up_batch, sweepers, log):
    """The sweep over the seeded running timers: query time, one tick with the due ones,
    an idle tick, then n_catch_up timers falling due at once (downtime) and the catch-up."""
    now = timezone.now()
    running = SLATimer.objects.filter(state="running").count()
    due = SLATimer.objects.filter(state="running", due_at__lte=now).count()
    with transaction.atomic():
        sql, params = sla_services.sweep_candidates("breach", now, 1000).query.sql_with_params()
    query_ms = []
    for _ in range(7):
        with transaction.atomic(), connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(sql, params)
            found = len(cursor.fetchall())
            query_ms.append((time.perf_counter() - started) * 1000)
            transaction.set_rollback(True)
    log(f"  sweep query: {found:,} due rows among {running:,} running, median {sorted(query_ms)[3]:.1f} ms")
    with Stopwatch() as tick:
        counts = sla_services.sla_sweep_tick(now=now, batch_size=1000, dispatch=False)
    log(
        f"  sweep tick: {counts['breaches']:,} breaches, {counts['warnings']:,} warnings "
        f"in {tick.seconds:.3f} s"
    )
    with Stopwatch() as idle:
        sla_services.sla_sweep_tick(now=now, batch_size=1000, dispatch=False)

    # Downtime: n_catch_up running timers fell due during the last hour.
    table = SLATimer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} SET due_at = %s - (random() * interval '1 hour'), warned_at = warn_at
            WHERE id IN (SELECT id FROM {table} WHERE state = 'running' AND due_at > %s
                         ORDER BY due_at LIMIT %s)
            """,  # noqa: S608
            [now, now, n_catch_up],
        )
        cursor.execute(f"ANALYZE {table}")
    bench = SLABench(stdout=io.StringIO())
    with Stopwatch() as catch:
        results = bench._concurrent_sweeps(now, catch_up_batch, sweepers)
    caught = sum(r["breaches"] for r in results)
    exact = (
        not SLATimer.objects.filter(state="breached", is_active=True)
        .exclude(breached_at=F("due_at"))
        .exists()
    )
    events = SLAEvent.objects.filter(kind="breach").count()
    log(
        f"  catch-up: {caught:,} breaches in {catch.seconds:.2f} s with {sweepers} sweepers "
        f"= {caught / catch.seconds:,.0f}/s; breached_at == due_at: {exact}"
    )
    return {
        "running_timers": running,
        "due": due,
        "query_median_ms": round(sorted(query_ms)[3], 1),
        "query_best_ms": round(min(query_ms), 1),
        "tick_seconds": round(tick.seconds, 3),
        "tick_breaches": counts["breaches"],
        "idle_tick_ms": round(idle.seconds * 1000, 1),
        "catch_up_due": n_catch_up,
        "catch_up_breaches": caught,
        "catch_up_seconds": round(catch.seconds, 2),
        "catch_up_per_second": round(caught / catch.seconds) if catch.seconds else None,
        "catch_up_sweepers": sweepers,
        "breached_at_exact": exact,
        "breach_events": events,
    }


# ------------------------------------------------------------------ escalation
def escalation(ctx_users, service, n, log):
    """incident_escalate_to_development end to end (one transaction: card, link, tier 3,
    on hold, sprint impact), on fresh incidents of a service with a development team."""
    from escalation.services import incident_escalate_to_development
    from incidents.services import incident_create

    actor = ctx_users["admin"]
    incidents = [
        incident_create(actor=actor, title=f"Bench escalation {i}", service=service, impact="medium",
                        urgency="medium", description="Needs a code fix.")
        for i in range(n)
    ]  # fmt: skip
    samples = []
    for incident in incidents:
        started = time.perf_counter()
        incident_escalate_to_development(incident=incident, actor=actor, note="bench")
        samples.append((time.perf_counter() - started) * 1000)
    # and through the API, the way the browser's button and integrations call it
    client = token_client(actor)
    api_incidents = [
        incident_create(actor=actor, title=f"Bench API escalation {i}", service=service, impact="high",
                        urgency="high", description="Needs a code fix.")
        for i in range(n)
    ]  # fmt: skip
    api_samples = []
    for incident in api_incidents:
        started = time.perf_counter()
        response = client.post(
            f"/api/v1/incidents/{incident.pk}/escalate-to-development/", {}, content_type="application/json"
        )
        api_samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 201:
            raise RuntimeError(
                f"escalate-to-development answered {response.status_code}: {response.content[:300]}"
            )
    out = {
        "service_p50_ms": round(sorted(samples)[len(samples) // 2], 1),
        "service_p95_ms": round(percentile(samples, 95), 1),
        "api_p50_ms": round(sorted(api_samples)[len(api_samples) // 2], 1),
        "api_p95_ms": round(percentile(api_samples, 95), 1),
        "runs": n,
    }
    log(
        f"  escalation: service p50 {out['service_p50_ms']} ms p95 {out['service_p95_ms']} ms; "
        f"API p50 {out['api_p50_ms']} ms p95 {out['api_p95_ms']} ms"
    )
    return out


# ------------------------------------------------------------------ creation rate
def creation_rate(user, services, n, log, threads=1):
    """POST /api/v1/incidents/ n times (token auth), in `threads` parallel clients."""
    bodies = [
        {"title": f"Bench API incident {i}", "description": "Created by the benchmark.",
         "service": services[i % len(services)].pk, "impact": ("high", "medium", "low")[i % 3],
         "urgency": ("medium", "low", "high")[i % 3], "type": "incident"}
        for i in range(n)
    ]  # fmt: skip
    token, _ = Token.objects.get_or_create(user=user)
    before = Incident.objects.count()
    samples, failures = [], []

    def worker(part):
        client = Client(HTTP_HOST=host(), HTTP_AUTHORIZATION=f"Token {token.key}")
        try:
            for body in part:
                started = time.perf_counter()
                response = client.post("/api/v1/incidents/", body, content_type="application/json")
                samples.append((time.perf_counter() - started) * 1000)
                if response.status_code != 201:
                    failures.append(response.status_code)
        finally:
            connection.close()

    parts = [bodies[i::threads] for i in range(threads)]
    with Stopwatch() as sw:
        if threads == 1:
            worker(bodies)
        else:
            ts = [threading.Thread(target=worker, args=(p,)) for p in parts]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
    created = Incident.objects.count() - before
    out = {
        "requests": n,
        "created": created,
        "failures": len(failures),
        "per_second": round(n / sw.seconds, 1),
        "p50_ms": round(sorted(samples)[len(samples) // 2], 1),
        "p95_ms": round(percentile(samples, 95), 1),
        "threads": threads,
    }
    log(
        f"  creation: {n} in {sw.seconds:.1f} s = {out['per_second']}/s, p95 {out['p95_ms']} ms, "
        f"created {created}"
    )
    return out


# ------------------------------------------------------------------ dashboards
def dashboards(user, n_incidents, runs, log):
    """SLA metrics over the most recent n_incidents incidents (the window is chosen so that
    it holds that many), in the function and through GET /api/v1/metrics/sla/."""
    from dashboards.metrics import sla_metrics

    start = (
        Incident.objects.order_by("-created_at").values_list("created_at", flat=True)[
            n_incidents - 1 : n_incidents
        ]
    ).first() or (timezone.now() - timedelta(days=365))
    end = timezone.now() + timedelta(minutes=1)
    fn_timing, result = time_call(lambda: sla_metrics(start=start, end=end), runs)
    client = session_client(user)
    iso = {k: v.isoformat().replace("+00:00", "Z") for k, v in (("from", start), ("to", end))}
    url = f"/api/v1/metrics/sla/?from={iso['from']}&to={iso['to']}"
    api = time_get(client, url, runs)
    out = {
        "incidents_in_window": result.get("incidents"),
        "sla_metrics": fn_timing,
        "api": {"url": url, **api},
    }
    log(
        f"  sla_metrics over {result.get('incidents'):,} incidents p50 {fn_timing['p50_ms']} ms; "
        f"API p50 {api['p50_ms']} ms p95 {api['p95_ms']} ms ({api['queries']} queries)"
    )
    extra = extra_dashboard_pages(client, runs, log, start, end)
    if extra:
        out["pages"] = extra
    return out


def extra_dashboard_pages(client, runs, log, start=None, end=None):
    """Dashboard pages another engineer is building: timed when their URLs exist, over the
    same period as the metrics (whole days: the pages take dates)."""
    from django.urls import NoReverseMatch, reverse

    period = ""
    if start and end:
        period = f"?start={start.date().isoformat()}&end={end.date().isoformat()}"
    out = {}
    for name, query in (("dashboards:sla", period), ("dashboards:delivery", period),
                        ("dashboards:sla_at_risk", "")):  # fmt: skip
        try:
            url = reverse(name) + query
        except NoReverseMatch:
            continue
        try:
            out[name] = {"url": url, **time_get(client, url, runs)}
        except RuntimeError as exc:
            out[name] = {"url": url, "error": str(exc)}
            continue
        r = out[name]
        log(f"  {url:<48} p50 {r['p50_ms']} ms p95 {r['p95_ms']} ms ({r['queries']} queries)")
    return out

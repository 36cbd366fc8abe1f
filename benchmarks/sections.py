"""The measured sections. Each returns a dict of figures (and logs as it goes); the command
puts them in one table and one JSON document."""

import io
import itertools
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
from sla.management.commands.bench_sla import Command as SLABench
from sla.models import SLAEvent, SLAEventKind, SLATimer
from sla.services import sweep as sla_sweep_service

from . import measure
from .measure import BenchmarkFailure, Stopwatch, follow_next, percentile, summary, time_call, time_get


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
    ("incident queue page (HTML)", "/incidents/?tab=all"),
]
# The list pages by cursor (`next`), not by number: page DEEP_PAGE is reached by following
# `next` DEEP_PAGE - 1 times from the first page, and that URL is timed (a seed too small for
# it, as the smoke test's, takes its last full page instead; the label names the page).
DEEP_PAGE = 100
PAGE_SIZE = 50
# Timed cold as well as warm (see measure.time_get).
COLD = ("incident list", "incident queue page (HTML)")


def _log_row(log, label, r):
    log(
        f"  {label:<38} p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  {r['queries']} queries  "
        f"n={r['runs']}"
    )


def incident_list(user, runs, log, team_id):
    client = session_client(user)
    rows = {}
    for label, url in INCIDENT_URLS:
        url = url.format(team=team_id)
        rows[label] = {"url": url, **time_get(client, url, runs)}
        _log_row(log, label, rows[label])
        if label in COLD:
            cold = f"{label}, cold"
            rows[cold] = {"url": url, **time_get(client, url, runs, cold=True)}
            _log_row(log, cold, rows[cold])
    first = f"/api/v1/incidents/?page_size={PAGE_SIZE}"
    hops = max(1, min(DEEP_PAGE, Incident.objects.count() // PAGE_SIZE) - 1)
    deep = follow_next(client, first, hops)
    label = f"incident list page {hops + 1} (cursor)"
    rows[label] = {"url": deep, "hops": hops, **time_get(client, deep, runs)}
    _log_row(log, label, rows[label])
    return rows


# ------------------------------------------------------------------ boards
def board(bench, user, board, runs, log):
    """Board endpoint (warm, after a card changed, cold) and page, as the boards app's bench
    user sees them. The endpoint keeps its cards' JSON under the fingerprint of their rows:
    "warm" reads an unchanged board, "changed" one whose card was just written."""
    from boards.models import Card

    bench_client = Client(HTTP_HOST=host())
    bench_client.force_login(user)
    card_ids = itertools.cycle(Card.objects.filter(board=board).values_list("id", flat=True)[:200])

    def change_a_card():
        Card.objects.filter(pk=next(card_ids)).update(updated_at=timezone.now())

    out = {}
    for label, url, cold, before in (
        ("endpoint", f"/api/v1/boards/{board.pk}/", False, None),
        ("endpoint changed", f"/api/v1/boards/{board.pk}/", False, change_a_card),
        ("endpoint cold", f"/api/v1/boards/{board.pk}/", True, None),
        ("page", f"/boards/{board.pk}/", False, None),
    ):
        out[label] = {"url": url, **time_get(bench_client, url, runs, cold=cold, before=before)}
        r = out[label]
        log(
            f"  board {label:<16} p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  "
            f"{r['queries']} queries  {r['bytes'] / 1024:.0f} KiB  n={r['runs']}"
        )
    return out


# ------------------------------------------------------------------ SLA sweep
SWEEP_STATEMENT = "WITH picked AS ("


def _sweep_statement_ms(now, batch, runs):
    """The statement the sweep runs on PostgreSQL (sla.services.sweep: lock the due
    timers, move them, insert their events and timeline entries, one CTE), timed as the
    sweep itself executes it: one real breach batch, `runs` times, each rolled back."""
    samples, moved = [], 0

    def timed(execute, sql, params, many, context):
        if not sql.lstrip().startswith(SWEEP_STATEMENT):
            return execute(sql, params, many, context)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            samples.append((time.perf_counter() - started) * 1000)

    for _ in range(runs):
        with transaction.atomic(), connection.execute_wrapper(timed):
            moved = sla_sweep_service._sweep_batch(SLAEventKind.BREACH, now, batch, False)
            transaction.set_rollback(True)
    if len(samples) != runs:
        raise BenchmarkFailure(
            f"the sweep ran {len(samples)} set-based statements in {runs} batches: is this PostgreSQL?"
        )
    return samples, moved


def sla_sweep(n_due, n_catch_up, catch_up_batch, sweepers, log, runs, database_url=None, redis_url=None):
    """The sweep over the seeded running timers: the production statement's time over n_due
    due ones, one tick with their actions handled by a real worker, an idle tick, then
    n_catch_up timers falling due at once (downtime) and the catch-up."""
    now = timezone.now()
    table = SLATimer._meta.db_table
    with connection.cursor() as cursor:
        # n_due running clocks fall due just now (the seed's due ones, or after an earlier
        # run on a reused seed the next ones): fresh breaches, so the policy's actions run
        # (a breach found long after its instant only notifies).
        cursor.execute(
            f"""
            UPDATE {table} SET due_at = %s - (id %% 60) * interval '1 second', warned_at = warn_at
            WHERE id IN (SELECT id FROM {table} WHERE state = 'running' AND due_at IS NOT NULL
                         ORDER BY due_at LIMIT %s)
            """,  # noqa: S608
            [now, n_due],
        )
    running = SLATimer.objects.filter(state="running").count()
    due = SLATimer.objects.filter(state="running", due_at__lte=now).count()
    if not due:
        raise BenchmarkFailure(
            f"no running SLA clock left to sweep ({running} running): an earlier run's sla section "
            "swept the reused seed; run without --reuse to seed again"
        )
    samples, moved = _sweep_statement_ms(now, 1000, max(runs, measure.MIN_RUNS))
    statement = summary(samples)
    log(
        f"  sweep statement: {moved:,} of {due:,} due moved per batch among {running:,} running, "
        f"p50 {statement['p50_ms']:.1f} ms p95 {statement['p95_ms']:.1f} ms n={statement['runs']}"
    )
    out = {"running_timers": running, "due": due, "statement": {"moved": moved, **statement}}
    if database_url and redis_url:
        from .tick import tick_with_actions

        out["tick"] = tick_with_actions(now, database_url, redis_url, log)
    else:
        with Stopwatch() as tick:
            counts = sla_sweep_service.sla_sweep_tick(now=now, batch_size=1000, dispatch=False)
        out["tick"] = {
            "breaches": counts["breaches"],
            "sweep_seconds": round(tick.seconds, 3),
            "seconds": None,
        }
        log(f"  sweep tick (actions not handled): {counts['breaches']:,} breaches in {tick.seconds:.3f} s")
    with Stopwatch() as idle:
        sla_sweep_service.sla_sweep_tick(now=now, batch_size=1000, dispatch=False)

    # Downtime: n_catch_up running timers (or as many as run) fell due during the last hour.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} SET due_at = %s - (random() * interval '1 hour'), warned_at = warn_at
            WHERE id IN (SELECT id FROM {table} WHERE state = 'running' AND due_at > %s
                         ORDER BY due_at LIMIT %s)
            """,  # noqa: S608
            [now, now, n_catch_up],
        )
        made_due = cursor.rowcount
        cursor.execute(f"ANALYZE {table}")
    first_event = SLAEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    bench = SLABench(stdout=io.StringIO())
    with Stopwatch() as catch:
        results = bench._concurrent_sweeps(now, catch_up_batch, sweepers)
    caught = sum(r["breaches"] for r in results)
    # every breach the catch-up fired is dated at its due instant, not at its detection
    exact = (
        not SLATimer.objects.filter(events__pk__gt=first_event, events__kind="breach")
        .exclude(breached_at=F("due_at"))
        .exists()
    )
    events = SLAEvent.objects.filter(kind="breach").count()
    # The catch-up is timed without its actions; its events are marked handled so that a
    # later tick on a reused seed does not pick them up (requeue_unhandled_events).
    SLAEvent.objects.filter(pk__gt=first_event, handled_at__isnull=True).update(handled_at=now)
    log(
        f"  catch-up: {caught:,} breaches in {catch.seconds:.2f} s with {sweepers} sweepers "
        f"= {caught / catch.seconds:,.0f}/s; breached_at == due_at: {exact}"
    )
    if caught != made_due or not exact:
        raise BenchmarkFailure(
            f"catch-up fired {caught:,} breaches of {made_due:,} due (breached_at exact: {exact})"
        )
    return {
        **out,
        "idle_tick_ms": round(idle.seconds * 1000, 1),
        "catch_up_due": made_due,
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
    if failures or created != n:
        raise BenchmarkFailure(
            f"POST /api/v1/incidents/: {len(failures)} of {n} answered otherwise than 201 "
            f"({sorted(set(failures))}); {created} stored"
        )
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
        out[name] = {"url": url, **time_get(client, url, runs)}
        r = out[name]
        log(f"  {url:<48} p50 {r['p50_ms']} ms p95 {r['p95_ms']} ms ({r['queries']} queries)")
    return out

"""Seed N incidents (bulk, fast) and time the incident list endpoint and the queue page.

    DATABASE_URL=postgres://... python manage.py bench_incidents --count 10000

Rows are written with bulk_create (keys BENCH-…), each with a response and a resolution
timer; running it again tops up to --count without duplicating. Timings are in-process
(Django test client, no network), so they measure the view, the ORM and the database.
"""

import random
import statistics
import time
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.models import Incident, Level, Priority, Status
from sla.models import SLATimer
from tracker import demo

BATCH = 2000


class Command(BaseCommand):
    help = "Seed N incidents with bulk_create and time GET /api/v1/incidents/ and the queue page."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=10000)
        parser.add_argument("--runs", type=int, default=30)
        parser.add_argument("--page-size", type=int, default=50)

    def handle(self, *args, count, runs, page_size, **options):
        ctx = demo.seed_organisation(lambda m: None)
        self._seed(ctx, count)
        client = Client(SERVER_NAME="localhost")
        client.force_login(ctx.users["admin"])
        total = Incident.objects.count()
        self.stdout.write(f"incidents in the database: {total}")
        urls = [
            ("list", f"/api/v1/incidents/?page_size={page_size}"),
            ("list status=open sort=sla", f"/api/v1/incidents/?page_size={page_size}&status=open&sort=sla"),
            ("list sla_state=at_risk", f"/api/v1/incidents/?page_size={page_size}&sla_state=at_risk"),
            ("list search", f"/api/v1/incidents/?page_size={page_size}&search=gateway"),
            ("list page 100", f"/api/v1/incidents/?page_size={page_size}&page=100"),
            ("queue page (browser)", "/incidents/?tab=all"),
        ]
        for label, url in urls:
            self._time(client, label, url, runs)

    def _seed(self, ctx, count):
        have = Incident.objects.filter(key__startswith="BENCH-").count()
        if have >= count:
            self.stdout.write(f"{have} bench incidents already present")
            return
        rng = random.Random(42)  # noqa: S311 - reproducible fake data, not security
        services = list(ctx.services.values())
        users = [ctx.users[u] for u in ("sam", "sara", "tariq", "tess", "dev", "dana")]
        customers = list(ctx.customers.values())
        levels = Level.values
        statuses = [Status.NEW, Status.IN_PROGRESS, Status.ON_HOLD, Status.RESOLVED, Status.CLOSED]
        words = ["gateway", "payout", "portal", "refund", "login", "export", "webhook", "statement", "card"]
        now = timezone.now()
        started = time.perf_counter()
        for start in range(have, count, BATCH):
            rows = []
            for n in range(start, min(start + BATCH, count)):
                service = rng.choice(services)
                status = rng.choice(statuses)
                created = now - timedelta(minutes=rng.randint(1, 60 * 24 * 60))
                rows.append(
                    Incident(
                        key=f"BENCH-{n + 1}",
                        title=f"{rng.choice(words).capitalize()} problem #{n + 1} for {rng.choice(words)}",
                        description="Bench data.",
                        service=service,
                        team=service.support_team,
                        tier=service.support_team.tier,
                        customer=rng.choice(customers),
                        impact=rng.choice(levels),
                        urgency=rng.choice(levels),
                        priority=rng.choice(Priority.values),
                        status=status,
                        assignee=rng.choice(users) if status != Status.NEW else None,
                        created_at=created,
                        resolved_at=created + timedelta(hours=3)
                        if status in (Status.RESOLVED, Status.CLOSED)
                        else None,
                    )
                )
            with transaction.atomic():
                made = Incident.objects.bulk_create(rows)
                timers = []
                for inc in made:
                    open_ = inc.status in (Status.NEW, Status.IN_PROGRESS, Status.ON_HOLD)
                    for metric, hours in (("response", 1), ("resolution", 8)):
                        due = inc.created_at + timedelta(hours=hours)
                        state = ("breached" if due < now else "running") if open_ else "met"
                        timers.append(
                            SLATimer(
                                incident=inc, metric=metric, state=state, started_at=inc.created_at,
                                target_minutes=hours * 60, due_at=due,
                                warn_at=due - timedelta(minutes=hours * 15),
                                breached_at=due if state == "breached" else None, is_active=open_,
                            )
                        )  # fmt: skip
                SLATimer.objects.bulk_create(timers)
            self.stdout.write(f"  seeded {min(start + BATCH, count)}/{count}")
        self.stdout.write(f"seeded in {time.perf_counter() - started:.1f} s")

    def _time(self, client, label, url, runs):
        client.get(url)  # warm caches and connections
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(ctx.captured_queries)
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            client.get(url)
            samples.append((time.perf_counter() - t0) * 1000)
        samples.sort()
        p50 = statistics.median(samples)
        p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
        self.stdout.write(f"{label:<28} queries={queries:<3} p50={p50:7.1f} ms  p95={p95:7.1f} ms  ({url})")

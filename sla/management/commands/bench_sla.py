"""Benchmark the SLA sweep at real sizes on PostgreSQL (not a test).

Seeds N running timers set-based (INSERT ... SELECT generate_series) with a few due,
times one sweep tick and the sweep query (printing its plan), then makes many fall due
at once and times the catch-up. Rows it creates are keyed BENCH-*; --reset removes them.

    DATABASE_URL=postgres://.../tandem_slabench manage.py migrate
    DATABASE_URL=postgres://.../tandem_slabench manage.py bench_sla
"""

import threading
import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from incidents.models import Incident
from org.models import Service, Team
from sla import services
from sla.models import BusinessCalendar, SLAEvent, SLAPolicy, SLATimer
from tracker.sql import insert_select_parts

PREFIX = "BENCH-"


class Command(BaseCommand):
    help = "Time the SLA sweep over a million running timers (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--timers", type=int, default=1_000_000)
        parser.add_argument("--due", type=int, default=1_000)
        parser.add_argument("--catch-up", type=int, default=100_000)
        parser.add_argument("--batch", type=int, default=1_000)
        parser.add_argument("--catch-up-batch", type=int, default=5_000)
        parser.add_argument("--sweepers", type=int, default=2, help="Concurrent sweepers for the catch-up.")
        parser.add_argument("--reset", action="store_true", help="Only remove earlier bench rows.")

    def handle(self, *args, timers, due, catch_up, batch, catch_up_batch, sweepers, reset, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_sla needs PostgreSQL (set DATABASE_URL to a scratch database).")
        self._reset()
        if reset:
            return
        policy = self._policy()
        t0 = time.perf_counter()
        self._seed(timers, due, policy)
        self.say(f"seeded {timers:,} running timers ({due:,} due) in {time.perf_counter() - t0:.1f} s")

        now = timezone.now()
        with transaction.atomic():
            sql, params = services.sweep_candidates("breach", now, batch).query.sql_with_params()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
            transaction.set_rollback(True)
        self.say("sweep query plan:\n    " + "\n    ".join(plan))
        query_ms = []
        for _ in range(5):
            with transaction.atomic(), connection.cursor() as cursor:
                started = time.perf_counter()
                cursor.execute(sql, params)
                found = len(cursor.fetchall())
                query_ms.append((time.perf_counter() - started) * 1000)
                transaction.set_rollback(True)
        self.say(
            f"sweep query: {found:,} rows, best {min(query_ms):.1f} ms, median {sorted(query_ms)[2]:.1f} ms"
        )

        started = time.perf_counter()
        counts = services.sla_sweep_tick(now=now, batch_size=batch, dispatch=False)
        tick = time.perf_counter() - started
        self.say(
            f"one sweep tick: {counts['breaches']:,} breaches, {counts['warnings']:,} warnings "
            f"in {tick:.3f} s"
        )
        started = time.perf_counter()
        empty = services.sla_sweep_tick(now=now, batch_size=batch, dispatch=False)
        self.say(
            f"idle sweep tick (nothing due): {empty['breaches']} breaches "
            f"in {time.perf_counter() - started:.4f} s"
        )

        # Downtime: catch_up timers fell due during the last hour.
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {SLATimer._meta.db_table} SET due_at = %s - (random() * interval '1 hour'),
                       warned_at = warn_at
                WHERE id IN (
                    SELECT id FROM {SLATimer._meta.db_table}
                    WHERE state = 'running' AND due_at > %s ORDER BY due_at LIMIT %s
                )
                """,  # noqa: S608
                [now, now, catch_up],
            )
            cursor.execute(f"ANALYZE {SLATimer._meta.db_table}")
        started = time.perf_counter()
        results = self._concurrent_sweeps(now, catch_up_batch, sweepers)
        elapsed = time.perf_counter() - started
        breaches = sum(r["breaches"] for r in results)
        rate = breaches / elapsed if elapsed else 0
        self.say(
            f"catch-up with {sweepers} concurrent sweeper(s), batches of {catch_up_batch:,}: "
            f"{breaches:,} breaches in {elapsed:.2f} s = {rate:,.0f} breaches/s"
        )
        exact = (
            not SLATimer.objects.filter(incident__key__startswith=PREFIX, state="breached")
            .exclude(breached_at=F("due_at"))
            .exists()
        )
        self.say(f"breached_at == due_at for every breached timer: {exact}")
        self.say(
            f"events recorded: {SLAEvent.objects.filter(timer__incident__key__startswith=PREFIX).count():,}"
        )

    def _concurrent_sweeps(self, now, batch, n):
        results, errors = [], []

        def run():
            try:
                results.append(services.sla_sweep_tick(now=now, batch_size=batch, dispatch=False))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise CommandError(f"a sweeper failed: {errors[0]!r}")
        return results

    def say(self, message):
        self.stdout.write(message)
        self.stdout.flush()

    def _policy(self) -> SLAPolicy:
        cal, _ = BusinessCalendar.objects.get_or_create(
            name="Bench 24×7", defaults={"timezone": "UTC", "always_open": True, "hours": {}}
        )
        policy, _ = SLAPolicy.objects.get_or_create(
            name="Bench P3",
            defaults={"priority": "P3", "response_minutes": 240, "resolution_minutes": 960, "calendar": cal},
        )
        return policy

    def _reset(self):
        inc = Incident._meta.db_table
        with connection.cursor() as cursor:
            bench = f"SELECT id FROM {inc} WHERE key LIKE %s"  # noqa: S608
            cursor.execute(
                f"DELETE FROM {SLAEvent._meta.db_table} WHERE timer_id IN "  # noqa: S608
                f"(SELECT id FROM {SLATimer._meta.db_table} WHERE incident_id IN ({bench}))",
                [PREFIX + "%"],
            )
            cursor.execute(
                "DELETE FROM incidents_incidentevent WHERE incident_id IN (" + bench + ")",  # noqa: S608
                [PREFIX + "%"],
            )
            cursor.execute(
                f"DELETE FROM {SLATimer._meta.db_table} WHERE incident_id IN ({bench})",  # noqa: S608
                [PREFIX + "%"],
            )
            cursor.execute(f"DELETE FROM {inc} WHERE key LIKE %s", [PREFIX + "%"])  # noqa: S608

    def _seed(self, n_timers: int, n_due: int, policy: SLAPolicy):
        team, _ = Team.objects.get_or_create(name="Bench desk", defaults={"tier": 1})
        service, _ = Service.objects.get_or_create(name="Bench service", defaults={"support_team": team})
        n_incidents = (n_timers + 1) // 2
        now = timezone.now()
        # Every NOT NULL column of the incident gets its model default, whatever fields exist.
        special = {
            "key": ("%s || g", PREFIX),
            "title": ("'Bench incident ' || g", None),
            "service": ("%s", service.pk),
            "team": ("%s", team.pk),
            "priority": ("%s", "P3"),
            "created_at": ("%s", now - timedelta(days=1)),
            "updated_at": ("%s", now),
        }
        columns, exprs, params = insert_select_parts(Incident, special)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Incident._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
                f"SELECT {', '.join(exprs)} FROM generate_series(1, %s) AS g",
                [*params, n_incidents],
            )
            # Due ones are spread over the last minute; the rest over the next days.
            cursor.execute(
                f"""
                INSERT INTO {SLATimer._meta.db_table}
                    (incident_id, metric, policy_id, state, target_minutes, started_at, due_at, warn_at,
                     warned_at, is_active, elapsed_seconds, pause_cause,
                     priority, team_id, service_id, customer_id)
                SELECT id, metric, %s, 'running', 960, %s, due, due - interval '4 hours',
                       CASE WHEN rn <= %s THEN due - interval '4 hours' END, true, 0, '',
                       priority, team_id, service_id, customer_id
                FROM (
                    SELECT i.id, m.metric, i.priority, i.team_id, i.service_id, i.customer_id,
                           row_number() OVER () AS rn,
                           CASE WHEN row_number() OVER () <= %s
                                THEN %s::timestamptz - random() * interval '1 minute'
                                ELSE %s::timestamptz + interval '5 hours' + random() * interval '5 days'
                           END AS due
                    FROM {Incident._meta.db_table} i
                    CROSS JOIN (VALUES ('response'), ('resolution')) AS m(metric)
                    WHERE i.key LIKE %s
                    LIMIT %s
                ) s
                """,  # noqa: S608
                [policy.pk, now - timedelta(days=1), n_due, n_due, now, now, PREFIX + "%", n_timers],
            )
        with connection.cursor() as cursor:
            # Steady state, as autovacuum leaves it: no dead index entries from earlier runs.
            cursor.execute(f"VACUUM ANALYZE {SLATimer._meta.db_table}")
            cursor.execute(f"VACUUM ANALYZE {Incident._meta.db_table}")

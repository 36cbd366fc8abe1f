"""Seed a realistic volume of incidents into the database it is pointed at, then time the
dashboards the way a manager loads them (server time, through Django's request handling).

    DATABASE_URL=postgres://.../tandem_dashbench manage.py bench_dashboards --incidents 100000

Seeding is set-based (INSERT … SELECT over generate_series), PostgreSQL only, and skipped
when the bench rows are already there (use --reseed to start again).
"""

import statistics
import time
from datetime import timedelta

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from boards.models import Board, Card, Column, ColumnCategory
from boards.services import board_create
from incidents.models import Incident
from org.models import Customer, Service, Team
from sla.models import BusinessCalendar, SLAPolicy

PREFIX = "BEN-"


def fix_cards(dev: Team, days: int) -> list[int]:
    """The ids of the development fixes the escalations point at: a "Bench board" of
    `dev` with one done production-defect card a day over `days` days (made once)."""
    board = Board.objects.filter(name="Bench board").first()
    if board is None:
        board = board_create(
            name="Bench board",
            teams=[dev],
            columns=[
                {"name": "Backlog", "category": "backlog"},
                {"name": "Ready", "category": "ready"},
                {"name": "Doing", "category": "in_progress"},
                {"name": "Done", "category": "done"},
            ],
            lanes=[{"name": "Standard", "kind": "standard"}],
            actor=None,
            key_prefix="BENB",
        )
    done_col = Column.objects.filter(board=board, category=ColumnCategory.DONE).first()
    lane = board.lanes.first()
    now = timezone.now()
    cards = Card.objects.filter(board=board, key__startswith="BENC-")
    if not cards.exists():
        Card.objects.bulk_create(
            Card(
                board=board, key=f"BENC-{i}", title=f"Bench fix {i}", column=done_col, lane=lane,
                type="production_defect", created_at=now - timedelta(days=days - i),
                started_at=now - timedelta(days=days - i - 1),
                done_at=now - timedelta(days=days - i - 3),
            )
            for i in range(0, days - 3)
        )  # fmt: skip
    return list(cards.values_list("pk", flat=True))


def seed_activity(cur, prefix: str, *, card_ids: list[int], dev_team_id: int) -> None:
    """What happens to incidents after they are logged, set-based over those keyed
    `prefix`*: a pause on every tenth resolution clock, a tier change on every eighth
    incident and an escalation to development (one of `card_ids`, done) on every
    fortieth. The benchmark's million-incident seed reuses it."""
    cur.execute(
        """
        INSERT INTO sla_pauseperiod (timer_id, cause, started_at, ended_at, card_id)
        SELECT t.id, (ARRAY['customer','vendor','development'])[1 + t.id %% 3],
               t.started_at + interval '1 hour',
               t.started_at + (2 + t.id %% 20) * interval '1 hour',
               NULL
        FROM sla_slatimer t JOIN incidents_incident i ON i.id = t.incident_id
        WHERE i.key LIKE %s AND t.metric = 'resolution' AND t.id %% 10 = 0
        """,
        [prefix + "%"],
    )
    cur.execute(
        """
        INSERT INTO incidents_incidentevent (incident_id, at, event, field, old, new, note)
        SELECT i.id, i.created_at + interval '2 hours', 'field_changed', 'tier', '1', '2', ''
        FROM incidents_incident i WHERE i.key LIKE %s AND i.id %% 8 = 0
        """,
        [prefix + "%"],
    )
    cur.execute(
        """
        INSERT INTO escalation_escalation
          (incident_id, card_id, at, from_team_id, to_team_id, placement, note, outcome,
           returned_at, escalated_by_id, from_assignee_id, sprint_id, estimate)
        SELECT i.id, (%s::bigint[])[1 + i.id %% %s], i.created_at + interval '4 hours',
               i.team_id, %s,
               'backlog', '', 'done', i.created_at + interval '3 days', NULL, NULL, NULL, NULL
        FROM incidents_incident i WHERE i.key LIKE %s AND i.id %% 40 = 0
        """,
        [card_ids, len(card_ids), dev_team_id, prefix + "%"],
    )


class Command(BaseCommand):
    help = "Seed N incidents with SLA timers, pauses and escalations; time the dashboards."

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, default=100_000)
        parser.add_argument("--days", type=int, default=365, help="Spread incidents over this many days.")
        parser.add_argument("--runs", type=int, default=5)
        parser.add_argument("--reseed", action="store_true")

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql":
            raise CommandError(
                "bench_dashboards seeds with PostgreSQL set operations; point DATABASE_URL at one."
            )
        existing = Incident.objects.filter(key__startswith=PREFIX).count()
        if opts["reseed"] or existing < opts["incidents"]:
            self._seed(opts["incidents"], opts["days"])
        else:
            self.stdout.write(
                f"{existing} bench incidents already there; timing only (use --reseed to reseed)."
            )
        self._time(opts["runs"])

    # ------------------------------------------------------------------ seeding
    def _seed(self, n, days):
        started = time.monotonic()
        with transaction.atomic():
            Incident.objects.filter(key__startswith=PREFIX).delete()
            teams = [
                Team.objects.get_or_create(name=f"Bench desk {i}", defaults={"tier": 1 + (i >= 3)})[0]
                for i in range(5)
            ]
            dev = Team.objects.get_or_create(name="Bench dev", defaults={"tier": 3, "is_development": True})[
                0
            ]
            services = [
                Service.objects.get_or_create(
                    name=f"Bench service {i}", defaults={"support_team": teams[i % 3], "team": dev}
                )[0]
                for i in range(10)
            ]
            customers = [Customer.objects.get_or_create(name=f"Bench customer {i}")[0] for i in range(50)]
            calendar = BusinessCalendar.objects.get_or_create(
                name="Bench 24x7", defaults={"always_open": True}
            )[0]
            policy = SLAPolicy.objects.get_or_create(
                name="Bench P3",
                defaults={
                    "priority": "P3",
                    "response_minutes": 60,
                    "resolution_minutes": 480,
                    "calendar": calendar,
                },
            )[0]
            manager = User.objects.filter(username="bench-manager").first()
            if manager is None:
                manager = User.objects.create_user("bench-manager", password=None, email="bench@example.com")
                manager.groups.add(Group.objects.get_or_create(name="manager")[0])
            card_ids = fix_cards(dev, days)

            team_ids = [t.pk for t in teams]
            service_ids = [s.pk for s in services]
            customer_ids = [c.pk for c in customers]
            with connection.cursor() as cur:
                self.stdout.write(f"inserting {n} incidents …")
                cur.execute(
                    """
                    INSERT INTO incidents_incident
                      (key, type, title, description, contact, impact, urgency, priority,
                       priority_override_reason, status, hold_reason, resolution_code, resolution_note,
                       cancel_reason, tier, is_major, created_at, updated_at, responded_at, resolved_at,
                       version, service_id, team_id, customer_id)
                    SELECT %s || g, 'incident', 'Bench incident ' || g, '', '', 'medium', 'medium',
                           'P' || (1 + g %% 5), '',
                           CASE WHEN age < interval '14 days' AND g %% 3 <> 0 THEN
                                (ARRAY['new','in_progress','on_hold'])[1 + g %% 3]
                                ELSE 'resolved' END,
                           '', '', '', '', CASE WHEN g %% 10 = 0 THEN 2 ELSE 1 END, false,
                           now() - age, now() - age, now() - age + interval '20 minutes',
                           CASE WHEN age < interval '14 days' AND g %% 3 <> 0 THEN NULL
                                ELSE now() - age + (g %% 48) * interval '1 hour' END,
                           1,
                           (%s::bigint[])[1 + g %% %s], (%s::bigint[])[1 + g %% %s],
                           CASE WHEN g %% 4 = 0 THEN NULL ELSE (%s::bigint[])[1 + g %% %s] END
                    FROM (SELECT g, (g::float / %s * %s) * interval '1 day' AS age
                          FROM generate_series(1, %s) g) s
                    """,
                    [PREFIX, service_ids, len(service_ids), team_ids, len(team_ids), customer_ids,
                     len(customer_ids), n, days, n],
                )  # fmt: skip
                self.stdout.write("inserting SLA timers …")
                cur.execute(
                    """
                    INSERT INTO sla_slatimer
                      (metric, state, target_minutes, started_at, due_at, warn_at, stopped_at, breached_at,
                       is_active, incident_id, policy_id, elapsed_seconds, pause_cause,
                       priority, team_id, service_id, customer_id)
                    SELECT m.metric,
                           CASE WHEN i.resolved_at IS NULL AND m.metric = 'resolution' THEN
                                  CASE WHEN i.id %% 7 = 0 THEN 'breached' ELSE 'running' END
                                WHEN i.id %% 9 = 0 THEN 'breached' ELSE 'met' END,
                           m.minutes, i.created_at,
                           CASE WHEN i.resolved_at IS NULL AND m.metric = 'resolution' AND i.id %% 7 <> 0
                                THEN now() + (i.id %% 600 - 60) * interval '1 minute'
                                ELSE i.created_at + m.minutes * interval '1 minute' END,
                           CASE WHEN i.resolved_at IS NULL AND m.metric = 'resolution' AND i.id %% 7 <> 0
                                THEN now() + (i.id %% 600 - 180) * interval '1 minute'
                                ELSE i.created_at + m.minutes * 0.75 * interval '1 minute' END,
                           CASE WHEN m.metric = 'response' THEN i.responded_at ELSE i.resolved_at END,
                           CASE WHEN (i.resolved_at IS NULL AND m.metric = 'resolution' AND i.id %% 7 = 0)
                                  OR (NOT (i.resolved_at IS NULL AND m.metric = 'resolution')
                                      AND i.id %% 9 = 0)
                                THEN i.created_at + m.minutes * interval '1 minute' END,
                           i.resolved_at IS NULL AND m.metric = 'resolution', i.id, %s, 0, '',
                           i.priority, i.team_id, i.service_id, i.customer_id
                    FROM incidents_incident i
                    CROSS JOIN (VALUES ('response', 60), ('resolution', 480)) AS m(metric, minutes)
                    WHERE i.key LIKE %s
                    """,
                    [policy.pk, PREFIX + "%"],
                )
                self.stdout.write("inserting pauses, tier changes and escalations …")
                seed_activity(cur, PREFIX, card_ids=card_ids, dev_team_id=dev.pk)
        with connection.cursor() as cur:
            for table in ("incidents_incident", "sla_slatimer", "sla_pauseperiod", "incidents_incidentevent",
                          "escalation_escalation"):  # fmt: skip
                cur.execute(f"ANALYZE {table}")
        self.stdout.write(self.style.SUCCESS(f"seeded in {time.monotonic() - started:.1f} s"))

    # ------------------------------------------------------------------ timing
    def _time(self, runs):
        manager = User.objects.get(username="bench-manager")
        client = Client(HTTP_HOST="localhost")
        client.force_login(manager)
        team = Team.objects.filter(name="Bench desk 0").first()
        today = timezone.localdate()
        cases = [
            ("SLA dashboard, last 30 days", reverse("dashboards:sla"), {}),
            ("SLA dashboard, last 30 days, one team", reverse("dashboards:sla"), {"team": team.pk}),
            (
                "SLA dashboard, a whole year",
                reverse("dashboards:sla"),
                {"start": (today - timedelta(days=364)).isoformat(), "end": today.isoformat()},
            ),
            ("At-risk panel (htmx refresh)", reverse("dashboards:sla_at_risk"), {}),
            ("Drill-down: breaches, 30 days", reverse("dashboards:drilldown"), {"show": "breaches"}),
            ("Delivery dashboard", reverse("dashboards:delivery"), {}),
        ]
        self.stdout.write(
            f"\n{Incident.objects.count()} incidents in the database; "
            f"median of {runs} runs after one warm-up\n"
        )
        for label, url, params in cases:
            client.get(url, params)
            timings = []
            for _ in range(runs):
                with CaptureQueriesContext(connection) as ctx:
                    began = time.perf_counter()
                    response = client.get(url, params)
                    timings.append(time.perf_counter() - began)
                if response.status_code != 200:
                    raise CommandError(f"{label}: HTTP {response.status_code}")
            self.stdout.write(
                f"  {label:<42} {statistics.median(timings) * 1000:7.0f} ms   {len(ctx):3d} queries"
            )

"""Seeding at benchmark volumes, set-based. The incident/timer volume comes from the SLA
app's bench seeding (one INSERT ... SELECT generate_series), the boards from the boards
app's; this module adds what neither has: variety across the million (priorities,
services, customers, closed history) and the 30 sprints."""

import io
import time
from datetime import timedelta

from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from boards.management.commands.bench_board import Command as BoardBench
from incidents.models import Incident
from org.models import Customer, Service, Team
from sla.management.commands.bench_sla import PREFIX
from sla.management.commands.bench_sla import Command as SLABench
from sla.models import SLATimer
from sprints.models import Sprint, SprintState

WORDS = ["Gateway", "Payout", "Portal", "Refund", "Login", "Export", "Webhook", "Statement", "Card"]


def _bench(cls):
    cmd = cls(stdout=io.StringIO(), stderr=io.StringIO())
    return cmd


def seed_demo(log):
    """The demo organisation (users, teams, services, boards, an active sprint) through the
    apps' own demo seeders: the escalation and the API need real, consistent rows."""
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    log("demo organisation seeded (users, teams, services, boards, sprints)")


def seed_incidents(n_incidents: int, n_due: int, log) -> dict:
    """n_incidents incidents with a response and a resolution timer each; half stay open
    (their timers running, n_due of them already due), half are closed history whose
    timers were met (one in ten breached)."""
    bench = _bench(SLABench)
    policy = bench._policy()
    started = time.perf_counter()
    log(f"inserting {n_incidents:,} incidents and {2 * n_incidents:,} timers (set-based) …")
    bench._seed(2 * n_incidents, n_due, policy)
    log(f"  inserted in {time.perf_counter() - started:.1f} s; adding variety …")
    t1 = time.perf_counter()
    _diversify(n_due)
    log(f"  varied and closed half in {time.perf_counter() - t1:.1f} s")
    t2 = time.perf_counter()
    with connection.cursor() as cur:
        for table in (Incident._meta.db_table, SLATimer._meta.db_table):
            cur.execute(f"VACUUM ANALYZE {table}")
    log(f"  vacuumed in {time.perf_counter() - t2:.1f} s")
    running = SLATimer.objects.filter(state="running").count()
    due = SLATimer.objects.filter(state="running", due_at__lte=timezone.now()).count()
    return {
        "incidents": Incident.objects.count(),
        "timers": SLATimer.objects.count(),
        "running_timers": running,
        "due_timers": due,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _diversify(n_due):
    """One UPDATE per table: spread the bench incidents over the demo services and
    customers, five priorities and 90 days; close every second one (never one with a due
    timer: those are the sweep's work) and stop its timers."""
    services = list(Service.objects.order_by("pk").values_list("pk", "support_team_id"))
    customers = list(Customer.objects.order_by("pk").values_list("pk", flat=True)) or [None]
    now = timezone.now()
    inc, timer = Incident._meta.db_table, SLATimer._meta.db_table
    service_ids = [s for s, _ in services]
    team_ids = [t for _, t in services]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL synchronous_commit TO OFF")
        cur.execute(
            f"""
            CREATE TEMP TABLE bench_due ON COMMIT DROP AS
            SELECT DISTINCT incident_id FROM {timer} WHERE state = 'running' AND due_at <= %s
            """,  # noqa: S608
            [now + timedelta(hours=1)],
        )
        cur.execute(
            f"""
            UPDATE {inc} i SET
                service_id = (%s::bigint[])[1 + i.id %% %s],
                team_id = (%s::bigint[])[1 + i.id %% %s],
                customer_id = (%s::bigint[])[1 + (i.id / 7) %% %s],
                priority = 'P' || (1 + (i.id * 7919) %% 5),
                impact = (ARRAY['high','medium','low'])[1 + i.id %% 3],
                urgency = (ARRAY['high','medium','low'])[1 + (i.id / 3) %% 3],
                title = (%s::text[])[1 + i.id %% %s] || ' problem #' || i.id || ' for '
                        || lower((%s::text[])[1 + (i.id / 11) %% %s]),
                created_at = %s - (i.id %% 129600) * interval '1 minute',
                status = CASE WHEN i.id %% 2 = 0 AND d.incident_id IS NULL
                              THEN (ARRAY['closed','resolved'])[1 + (i.id / 2) %% 2]
                              ELSE (ARRAY['new','in_progress','on_hold'])[1 + i.id %% 3] END,
                hold_reason = CASE WHEN (i.id %% 2 = 1 OR d.incident_id IS NOT NULL) AND i.id %% 3 = 2
                                   THEN 'awaiting_customer' ELSE '' END,
                resolution_code = CASE WHEN i.id %% 2 = 0 AND d.incident_id IS NULL
                                       THEN 'fixed' ELSE '' END
            FROM {inc} i2 LEFT JOIN bench_due d ON d.incident_id = i2.id
            WHERE i.id = i2.id AND i.key LIKE %s
            """,  # noqa: S608
            [
                service_ids, len(service_ids), team_ids, len(team_ids), customers, len(customers),
                WORDS, len(WORDS), WORDS, len(WORDS), now, PREFIX + "%",
            ],
        )  # fmt: skip
        cur.execute(
            f"""
            UPDATE {inc} SET responded_at = created_at + interval '25 minutes',
                   resolved_at = created_at + (1 + id %% 20) * interval '1 hour',
                   closed_at = CASE WHEN status = 'closed'
                                    THEN created_at + (25 + id %% 20) * interval '1 hour' END
            WHERE key LIKE %s AND status IN ('closed', 'resolved')
            """,  # noqa: S608
            [PREFIX + "%"],
        )
        cur.execute(
            f"""
            UPDATE {timer} t SET
                started_at = i.created_at,
                due_at = i.created_at + t.target_minutes * interval '1 minute',
                warn_at = i.created_at + t.target_minutes * interval '45 seconds',
                warned_at = CASE WHEN i.id %% 10 = 0
                                 THEN i.created_at + t.target_minutes * interval '45 seconds' END,
                state = CASE WHEN i.id %% 10 = 0 THEN 'breached' ELSE 'met' END,
                breached_at = CASE WHEN i.id %% 10 = 0
                                   THEN i.created_at + t.target_minutes * interval '1 minute' END,
                stopped_at = CASE WHEN t.metric = 'response' THEN i.responded_at ELSE i.resolved_at END,
                is_active = false
            FROM {inc} i
            WHERE t.incident_id = i.id AND i.key LIKE %s AND i.status IN ('closed', 'resolved')
            """,  # noqa: S608
            [PREFIX + "%"],
        )  # fmt: skip
        # The incident's reporting dimensions on its timers, as the SLA service keeps them,
        # and every clock starting when its incident was logged (the open ones too).
        cur.execute(
            f"""
            UPDATE {timer} t SET priority = i.priority, team_id = i.team_id,
                   service_id = i.service_id, customer_id = i.customer_id, started_at = i.created_at
            FROM {inc} i WHERE t.incident_id = i.id AND i.key LIKE %s
            """,  # noqa: S608
            [PREFIX + "%"],
        )
        # The queue's sort key, as the SLA service keeps it: earliest due of counting clocks.
        cur.execute(
            f"""
            UPDATE {inc} i SET sla_due_at = m.due
            FROM (SELECT incident_id, min(due_at) AS due FROM {timer}
                  WHERE is_active AND due_at IS NOT NULL GROUP BY incident_id) m
            WHERE m.incident_id = i.id AND i.key LIKE %s
            """,  # noqa: S608
            [PREFIX + "%"],
        )


def seed_board(n_cards: int, log):
    """A board of n_cards through the boards app's bench seeding."""
    bench = _bench(BoardBench)
    user = bench._user()
    started = time.perf_counter()
    board = bench._seed(n_cards, user)
    log(f"board with {n_cards:,} cards seeded in {time.perf_counter() - started:.1f} s")
    return bench, user, board


def drop_board(board):
    from boards.models import Card

    Card.objects.filter(board=board).delete()  # columns protect their cards
    board.delete()


def seed_sprints(board, n_sprints: int, log) -> dict:
    """n_sprints two-week sprints of a development team working on `board`: all but the
    last two closed, one active, one in planning; the board's cards spread over them."""
    from boards.models import Card

    team, _ = Team.objects.get_or_create(
        name="Bench Dev", defaults={"tier": 3, "is_development": True, "capacity_unit": "points"}
    )
    board.teams.add(team)
    today = timezone.localdate()
    first = today - timedelta(days=14 * (n_sprints - 2))
    rows = []
    for n in range(n_sprints):
        start = first + timedelta(days=14 * n)
        end = start + timedelta(days=13)
        state = SprintState.CLOSED if n < n_sprints - 2 else SprintState.ACTIVE
        if n == n_sprints - 1:
            state = SprintState.PLANNING
        rows.append(
            Sprint(
                team=team, board=board, name=f"Bench sprint {n + 1}", goal="Bench goal.",
                start=start, end=end, state=state,
                committed=40 if state == SprintState.CLOSED else None,
                velocity=36 + n % 8 if state == SprintState.CLOSED else None,
            )
        )  # fmt: skip
    sprints = Sprint.objects.bulk_create(rows)
    ids = [s.pk for s in sprints]
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {Card._meta.db_table} SET sprint_id = (%s::bigint[])[1 + id %% %s] WHERE board_id = %s",  # noqa: S608
            [ids, len(ids), board.pk],
        )
    active = next(s for s in sprints if s.state == SprintState.ACTIVE)
    log(f"{n_sprints} sprints for {team.name} on the board, cards spread over them")
    return {"team": team, "sprints": sprints, "active": active}

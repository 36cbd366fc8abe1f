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
from incidents import search
from incidents.models import Incident
from org.models import Customer, Service, Team
from sla.management.commands.bench_sla import PREFIX
from sla.management.commands.bench_sla import Command as SLABench
from sla.models import SLATimer
from sprints.models import Sprint, SprintState

# Titles and descriptions a payments desk writes, combined per incident from these pools
# (30 x 20 x 15 titles), so search meets realistic word frequencies: a component's word is
# in about 3 % of titles, a symptom's in 5 %, a context's in 7 %, and RARE_WORD in about one
# incident in 10,000 (one sentence of its description).
COMPONENTS = [
    "Card payments",
    "Checkout",
    "Refund export",
    "Payout file",
    "Settlement report",
    "Merchant portal login",
    "3-D Secure challenge",
    "Apple Pay button",
    "Webhook delivery",
    "API key rotation",
    "Chargeback notice",
    "Statement PDF",
    "Currency conversion",
    "Invoice e-mail",
    "Dispute upload",
    "Fraud screening",
    "Recurring billing",
    "Bank transfer",
    "Direct debit mandate",
    "Tax report",
    "Receipt e-mail",
    "Terminal pairing",
    "Password reset",
    "Single sign-on",
    "Transactions search",
    "Balance widget",
    "Mobile app checkout",
    "Subscription renewal",
    "Gift card redemption",
    "Loyalty points",
]
SYMPTOMS = [
    "fails with error 502",
    "times out",
    "shows a blank page",
    "loops back to the start",
    "is missing for some merchants",
    "declines valid cards",
    "sends duplicates",
    "shows the wrong amount",
    "is slow since the last release",
    "returns 403",
    "is stuck in pending",
    "shows negative fees",
    "never arrives",
    "crashes on submit",
    "logs users out",
    "rounds amounts wrongly",
    "has a broken link",
    "rejects the file",
    "is delayed by hours",
    "shows an empty list",
]
CONTEXTS = [
    "on Safari",
    "on Android",
    "for EU merchants",
    "after the update",
    "at month end",
    "in the sandbox",
    "for GBP accounts",
    "since this morning",
    "for large files",
    "on iOS 17",
    "with Firefox",
    "for new customers",
    "during peak hours",
    "in the US region",
    "on the mobile app",
]
OPENINGS = [
    "The customer reports that the problem started after their morning batch.",
    "Several merchants called the service desk about this within an hour.",
    "Our monitoring raised an alert before the first customer call.",
    "The merchant's finance team noticed it while reconciling yesterday's payments.",
    "A shopper complained on social media and the merchant escalated to us.",
    "Reported through the partner portal by the integration team.",
    "The reseller forwarded a screenshot from one of their shops.",
    "First seen in the overnight job report, then confirmed by the customer.",
]
DETAILS = [
    "The gateway log shows a timeout talking to the acquirer.",
    "Retrying the request succeeds about half of the time.",
    "It only happens when the basket holds more than ten items.",
    "The error started right after the certificate rotation.",
    "Support reproduced it on a test merchant with the same settings.",
    "The database replica was lagging by several minutes at the time.",
    "The affected requests all carry an old API version header.",
    "Clearing the browser cache does not help.",
    "The issue disappears when the fraud rules are switched off.",
    "Amounts in other currencies are not affected.",
    "The webhook endpoint answered with HTTP 500 for every delivery.",
    "Queue depth on the payout workers grew steadily during the night.",
]
CLOSINGS = [
    "Please advise on a workaround until a fix is available.",
    "The customer asks for an update by the end of the day.",
    "No data loss is expected, but the merchant cannot close their books.",
    "Revenue impact is estimated as moderate.",
    "The merchant is willing to test a fix in the sandbox.",
    "Linked to a similar report from last week.",
    "Attach the request ids from the merchant's export when escalating.",
]
RARE_WORD = "kerberos"
RARE_SENTENCE = "The single sign-on bridge logs a Kerberos ticket renewal failure."
RARE_EVERY = 10_007


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
    # The search indexes are built once after the rows are in, not row by row.
    with connection.cursor() as cur:
        for name in search.INDEXES:
            cur.execute(f"DROP INDEX IF EXISTS {name}")
    bench._seed(2 * n_incidents, n_due, policy)
    log(f"  inserted in {time.perf_counter() - started:.1f} s; adding variety, texts and search vectors …")
    t1 = time.perf_counter()
    _diversify(n_due)
    log(f"  varied and closed half in {time.perf_counter() - t1:.1f} s")
    t3 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '256MB'")
        for name in search.INDEXES:
            cur.execute(search.index_sql(name))
        cur.execute("RESET maintenance_work_mem")
    log(f"  search indexes built in {time.perf_counter() - t3:.1f} s")
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
        # Title and description per incident from the pools; the search vector from them in
        # the same statement, as incidents.search writes it (t is the row with its new texts).
        cur.execute(
            f"""
            UPDATE {inc} i SET
                service_id = (%s::bigint[])[1 + i.id %% %s],
                team_id = (%s::bigint[])[1 + i.id %% %s],
                customer_id = (%s::bigint[])[1 + (i.id / 7) %% %s],
                priority = 'P' || (1 + (i.id * 7919) %% 5),
                impact = (ARRAY['high','medium','low'])[1 + i.id %% 3],
                urgency = (ARRAY['high','medium','low'])[1 + (i.id / 3) %% 3],
                title = t.title,
                description = t.description,
                search_vector = {search.VECTOR_SQL.format(t="t")},
                created_at = %s - (i.id %% 129600) * interval '1 minute',
                status = CASE WHEN i.id %% 2 = 0 AND t.due_id IS NULL
                              THEN (ARRAY['closed','resolved'])[1 + (i.id / 2) %% 2]
                              ELSE (ARRAY['new','in_progress','on_hold'])[1 + i.id %% 3] END,
                hold_reason = CASE WHEN (i.id %% 2 = 1 OR t.due_id IS NOT NULL) AND i.id %% 3 = 2
                                   THEN 'awaiting_customer' ELSE '' END,
                resolution_code = CASE WHEN i.id %% 2 = 0 AND t.due_id IS NULL
                                       THEN 'fixed' ELSE '' END
            FROM (
                SELECT i2.id, i2.key, i2.contact, d.incident_id AS due_id,
                       (%s::text[])[1 + (i2.id * 7) %% %s] || ' ' || (%s::text[])[1 + (i2.id / 3) %% %s]
                       || ' ' || (%s::text[])[1 + (i2.id / 61) %% %s] AS title,
                       (%s::text[])[1 + i2.id %% %s] || ' ' || (%s::text[])[1 + (i2.id / 5) %% %s] || ' '
                       || CASE WHEN i2.id %% %s = 0 THEN %s ELSE (%s::text[])[1 + (i2.id / 13) %% %s] END
                       AS description
                FROM {inc} i2 LEFT JOIN bench_due d ON d.incident_id = i2.id
                WHERE i2.key LIKE %s
            ) t
            WHERE i.id = t.id
            """,  # noqa: S608
            [
                service_ids, len(service_ids), team_ids, len(team_ids), customers, len(customers), now,
                COMPONENTS, len(COMPONENTS), SYMPTOMS, len(SYMPTOMS), CONTEXTS, len(CONTEXTS),
                OPENINGS, len(OPENINGS), DETAILS, len(DETAILS), RARE_EVERY, RARE_SENTENCE,
                CLOSINGS, len(CLOSINGS), PREFIX + "%",
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

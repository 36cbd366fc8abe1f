"""Seeding at benchmark volumes, set-based: the incidents and their clocks in their final
state in one INSERT ... SELECT generate_series each (texts, variety across the million,
closed history, search vectors), then what happens to incidents afterwards (the dashboards
bench's pauses, tier changes and escalations, and comments); the boards through the boards
app's bench seeding, and the 30 sprints."""

import io
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from boards.management.commands.bench_board import Command as BoardBench
from dashboards.management.commands.bench_dashboards import fix_cards, seed_activity
from escalation.models import Escalation
from incidents.models import Comment, Incident, IncidentEvent
from org.models import Customer, Service, Team
from sla.management.commands.bench_sla import PREFIX
from sla.management.commands.bench_sla import Command as SLABench
from sla.models import PausePeriod, SLATimer
from sprints.models import Sprint, SprintState
from tracker.sql import insert_select_parts

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


# The search vector of a seeded incident, as incidents.search.VECTOR_SQL writes it (same
# configuration, weights and limits) but with its comments' text given as the SQL
# expression {comments} instead of the per-row subquery over incidents_comment: the seed
# knows the one comment it writes. tests/test_benchmark_seed.py holds the two equal.
SEED_VECTOR_SQL = (
    "setweight(to_tsvector('english', replace({t}.key, '-', ' ') || ' ' || {t}.title), 'A')"
    " || setweight(to_tsvector('english', left({t}.description, 100000) || ' ' || {t}.contact), 'B')"
    " || setweight(to_tsvector('english', left({comments}, 200000)), 'C')"
)
# Every COMMENT_EVERY-th seeded incident carries one comment (from DETAILS, by the desk).
COMMENT_EVERY = 4
# Seeded incident number g (the key's digits) from a row of the incidents table.
_G = f"substr({{i}}.key, {len(PREFIX) + 1})::bigint"


def _due_sql(g: str, m: str, n_due: int) -> str:
    """The due instant of an open incident's clock (m 0: response, 1: resolution), %(now)s
    the seed's now: the first n_due clocks of open incidents (odd g: the open ones) are
    due within the last minute, the others fall due over the next days."""
    return (
        f"CASE WHEN {g} + {m} <= {int(n_due)} "
        f"THEN %(now)s::timestamptz - (({g} * 37 + {m} * 11) %% 60) * interval '1 second' "
        f"ELSE %(now)s::timestamptz + interval '5 hours' + (({g} * 7919) %% 7200) * interval '1 minute' "
        f"+ {m} * interval '12 hours' END"
    )


def _comment_sql(g: str) -> str:
    """The body of seeded incident g's comment (NULL when it has none)."""
    return (
        f"CASE WHEN {g} %% {COMMENT_EVERY} = 1 "
        f"THEN (%(details)s::text[])[1 + ({g} / 11) %% %(n_details)s] END"
    )


def seed_incidents(n_incidents: int, n_due: int, log) -> dict:
    """n_incidents incidents with a response and a resolution timer each, in their final
    state in one INSERT ... SELECT per table (no UPDATE pass): spread over the demo
    services, customers, five priorities and 90 days, with texts from the pools and their
    search vectors; every second one closed history whose timers were met (one in ten
    breached), the others open with running clocks (n_due of them already due). Then what
    happens to incidents afterwards as the dashboards bench seeds it (pauses, tier changes,
    escalations to development) and a comment on every fourth incident.

    The tables' non-unique indexes and foreign keys are dropped before the writes and made
    once after (adding a key back validates every row);
    commits do not wait for the WAL flush (synchronous_commit off: a crash loses the seed,
    which is re-made anyway). The tables stay logged: the benchmark measures real tables."""
    policy = _bench(SLABench)._policy()
    started = time.perf_counter()
    now = timezone.now()
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit TO OFF")
    tables = [Incident._meta.db_table, SLATimer._meta.db_table]
    dropped = _drop_indexes(tables)
    foreign_keys = _drop_foreign_keys(tables)
    log(
        f"  {len(dropped)} non-unique incident/timer indexes and {len(foreign_keys)} foreign keys "
        "dropped for the bulk writes"
    )
    try:
        t = time.perf_counter()
        with transaction.atomic():
            insert_incidents(n_incidents, n_due, now)
        log(
            f"  {n_incidents:,} incidents (texts, variety, search vectors) in {time.perf_counter() - t:.1f} s"
        )
        t = time.perf_counter()
        with transaction.atomic():
            insert_timers(n_due, policy, now)
        log(f"  {2 * n_incidents:,} timers in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        with transaction.atomic():
            insert_activity()
        log(f"  pauses, tier changes, escalations and comments in {time.perf_counter() - t:.1f} s")
    finally:  # a failed seed still leaves the tables with their keys and indexes
        t = time.perf_counter()
        _add_foreign_keys(foreign_keys)
        log(f"  {len(foreign_keys)} foreign keys added back (validated) in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        _rebuild_indexes(dropped)
        log(f"  {len(dropped)} indexes rebuilt in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    with connection.cursor() as cur:
        for model in (Incident, SLATimer, Comment, IncidentEvent, PausePeriod, Escalation):
            cur.execute(f"VACUUM ANALYZE {model._meta.db_table}")
        cur.execute("RESET synchronous_commit")
    log(f"  vacuumed and analysed in {time.perf_counter() - t:.1f} s")
    running = SLATimer.objects.filter(state="running").count()
    due = SLATimer.objects.filter(state="running", due_at__lte=timezone.now()).count()
    return {
        "incidents": Incident.objects.count(),
        "timers": SLATimer.objects.count(),
        "running_timers": running,
        "due_timers": due,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _drop_indexes(tables: list[str]) -> list[str]:
    """Drop the plain (non-unique, not backing a constraint) indexes of `tables`; returns
    their definitions to build them again."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT c.relname, pg_get_indexdef(x.indexrelid)
            FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
            WHERE x.indrelid = ANY(%s::regclass[]) AND NOT x.indisunique AND NOT x.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
            ORDER BY c.relname
            """,
            [tables],
        )
        found = cur.fetchall()
        for name, _definition in found:
            cur.execute(f'DROP INDEX IF EXISTS "{name}"')
    return [definition for _name, definition in found]


def _drop_foreign_keys(tables: list[str]) -> list[tuple[str, str, str]]:
    """Drop the foreign keys of `tables` (their deferred per-row checks cost more than the
    inserts); returns (table, name, definition) to add them back, which validates every
    row in one join per key."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
            FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype = 'f' ORDER BY conname
            """,
            [tables],
        )
        found = cur.fetchall()
        for table, name, _definition in found:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    return found


def _add_foreign_keys(foreign_keys: list[tuple[str, str, str]]) -> None:
    with connection.cursor() as cur:
        for table, name, definition in foreign_keys:
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def _rebuild_indexes(definitions: list[str]) -> None:
    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'")
        for definition in definitions:
            cur.execute(definition)
        cur.execute("RESET maintenance_work_mem")


def insert_incidents(n_incidents: int, n_due: int, now) -> None:
    """The seeded incidents BENCH-1 … BENCH-n in one INSERT ... SELECT generate_series."""
    services = list(Service.objects.order_by("pk").values_list("pk", "support_team_id"))
    customers: list[int | None] = list(Customer.objects.order_by("pk").values_list("pk", flat=True)) or [None]
    closed = "g %% 2 = 0"
    special = {
        "key": ("s.key", None),
        "title": ("s.title", None),
        "description": ("s.description", None),
        "contact": ("''", None),
        "service": ("(%(services)s::bigint[])[1 + g %% %(n_services)s]", None),
        "team": ("(%(teams)s::bigint[])[1 + g %% %(n_services)s]", None),
        "customer": ("(%(customers)s::bigint[])[1 + (g / 7) %% %(n_customers)s]", None),
        "priority": ("'P' || (1 + (g * 7919) %% 5)", None),
        "impact": ("(ARRAY['high','medium','low'])[1 + g %% 3]", None),
        "urgency": ("(ARRAY['high','medium','low'])[1 + (g / 3) %% 3]", None),
        "status": (
            f"CASE WHEN {closed} THEN (ARRAY['closed','resolved'])[1 + (g / 2) %% 2] "
            "ELSE (ARRAY['new','in_progress','on_hold'])[1 + g %% 3] END",
            None,
        ),
        "hold_reason": (f"CASE WHEN NOT {closed} AND g %% 3 = 2 THEN 'awaiting_customer' ELSE '' END", None),
        "resolution_code": (f"CASE WHEN {closed} THEN 'fixed' ELSE '' END", None),
        "created_at": ("s.created_at", None),
        "updated_at": ("%(now)s", None),
        "responded_at": (f"CASE WHEN {closed} THEN s.created_at + interval '25 minutes' END", None),
        "resolved_at": (
            f"CASE WHEN {closed} THEN s.created_at + (1 + g %% 20) * interval '1 hour' END",
            None,
        ),
        "closed_at": (
            f"CASE WHEN {closed} AND (g / 2) %% 2 = 0 "
            "THEN s.created_at + (25 + g %% 20) * interval '1 hour' END",
            None,
        ),
        "sla_due_at": (
            f"CASE WHEN NOT {closed} "
            f"THEN LEAST({_due_sql('g', '0', n_due)}, {_due_sql('g', '1', n_due)}) END",
            None,
        ),
        "search_vector": (SEED_VECTOR_SQL.format(t="s", comments=f"coalesce({_comment_sql('g')}, '')"), None),
    }
    columns, exprs, defaults = insert_select_parts(Incident, special)
    # insert_select_parts gives the model defaults as positional %s; here every parameter is
    # named, so each default becomes one.
    named = {}
    for i, value in enumerate(defaults):
        named[f"d{i}"] = value
    counter = iter(range(len(defaults)))
    exprs = [_name_positional(e, counter) for e in exprs]
    params = {
        **named,
        "prefix": PREFIX, "now": now, "n": n_incidents,
        "services": [s for s, _ in services], "teams": [t for _, t in services], "n_services": len(services),
        "customers": customers, "n_customers": len(customers),
        "components": COMPONENTS, "n_components": len(COMPONENTS),
        "symptoms": SYMPTOMS, "n_symptoms": len(SYMPTOMS),
        "contexts": CONTEXTS, "n_contexts": len(CONTEXTS),
        "openings": OPENINGS, "n_openings": len(OPENINGS),
        "details": DETAILS, "n_details": len(DETAILS),
        "closings": CLOSINGS, "n_closings": len(CLOSINGS),
        "rare_every": RARE_EVERY, "rare": RARE_SENTENCE,
    }  # fmt: skip
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO {Incident._meta.db_table} ({", ".join(columns)})
            SELECT {", ".join(exprs)}
            FROM (
                SELECT g, %(prefix)s || g AS key, '' AS contact,
                       %(now)s::timestamptz - (g %% 129600) * interval '1 minute' AS created_at,
                       (%(components)s::text[])[1 + (g * 7) %% %(n_components)s] || ' '
                       || (%(symptoms)s::text[])[1 + (g / 3) %% %(n_symptoms)s] || ' '
                       || (%(contexts)s::text[])[1 + (g / 61) %% %(n_contexts)s] AS title,
                       (%(openings)s::text[])[1 + g %% %(n_openings)s] || ' '
                       || (%(details)s::text[])[1 + (g / 5) %% %(n_details)s] || ' '
                       || CASE WHEN g %% %(rare_every)s = 0 THEN %(rare)s
                               ELSE (%(closings)s::text[])[1 + (g / 13) %% %(n_closings)s] END
                       AS description
                FROM generate_series(1::bigint, %(n)s::bigint) AS g
            ) s
            """,  # noqa: S608
            params,
        )


def _name_positional(expr: str, counter) -> str:
    """`expr` with each positional %s turned into its named default %(dN)s."""
    parts = expr.split("%s")
    out = parts[0]
    for part in parts[1:]:
        out += f"%(d{next(counter)})s" + part
    return out


def insert_timers(n_due: int, policy, now) -> None:
    """A response and a resolution clock per seeded incident, in their final state: the
    closed incidents' stopped (met, one in ten breached), the open ones' running."""
    g = _G.format(i="i")
    closed = "i.status IN ('closed', 'resolved')"
    breached = f"{closed} AND {g} %% 10 = 0"
    due = _due_sql(g, "m.m", n_due)
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO {SLATimer._meta.db_table}
                (incident_id, metric, policy_id, state, target_minutes, started_at, due_at, warn_at,
                 warned_at, breached_at, stopped_at, is_active, elapsed_seconds, pause_cause,
                 priority, team_id, service_id, customer_id)
            SELECT i.id, m.metric, %(policy)s,
                   CASE WHEN {breached} THEN 'breached' WHEN {closed} THEN 'met' ELSE 'running' END,
                   960, i.created_at,
                   CASE WHEN {closed} THEN i.created_at + interval '960 minutes' ELSE {due} END,
                   CASE WHEN {closed} THEN i.created_at + interval '720 minutes'
                        ELSE {due} - interval '4 hours' END,
                   CASE WHEN {breached} THEN i.created_at + interval '720 minutes'
                        WHEN NOT {closed} AND {g} + m.m <= %(n_due)s THEN {due} - interval '4 hours' END,
                   CASE WHEN {breached} THEN i.created_at + interval '960 minutes' END,
                   CASE WHEN {closed} THEN (CASE WHEN m.m = 0 THEN i.responded_at ELSE i.resolved_at END) END,
                   NOT {closed}, 0, '',
                   i.priority, i.team_id, i.service_id, i.customer_id
            FROM {Incident._meta.db_table} i
            CROSS JOIN (VALUES ('response', 0), ('resolution', 1)) AS m(metric, m)
            WHERE i.key LIKE %(like)s
            """,  # noqa: S608
            {"policy": policy.pk, "now": now, "n_due": int(n_due), "like": PREFIX + "%"},
        )


def insert_activity() -> None:
    """What happens after logging, as the dashboards bench seeds it (pauses, tier changes,
    escalations to a development team's done fixes), and the seeded comments: the body
    each incident's search vector already holds (see _comment_sql)."""
    dev, _ = Team.objects.get_or_create(name="Bench dev", defaults={"tier": 3, "is_development": True})
    card_ids = fix_cards(dev, 90)
    author = get_user_model().objects.filter(username="admin").values_list("pk", flat=True).first()
    g = _G.format(i="i")
    comment = _comment_sql(g)
    with connection.cursor() as cur:
        seed_activity(cur, PREFIX, card_ids=card_ids, dev_team_id=dev.pk)
        columns, exprs, defaults = insert_select_parts(
            Comment,
            {
                "incident": ("i.id", None),
                "author": ("%(author)s", None),
                "body": (comment, None),
                "public": (f"{g} %% 8 = 1", None),
                "created_at": ("i.created_at + interval '30 minutes'", None),
            },
        )
        named = {f"d{i}": v for i, v in enumerate(defaults)}
        counter = iter(range(len(defaults)))
        exprs = [_name_positional(e, counter) for e in exprs]
        cur.execute(
            f"""
            INSERT INTO {Comment._meta.db_table} ({", ".join(columns)})
            SELECT {", ".join(exprs)} FROM {Incident._meta.db_table} i
            WHERE i.key LIKE %(like)s AND {g} %% {COMMENT_EVERY} = 1
            """,  # noqa: S608
            {**named, "author": author, "details": DETAILS, "n_details": len(DETAILS), "like": PREFIX + "%"},
        )


def seed_board(n_cards: int, log):
    """A board of n_cards through the boards app's bench seeding (a board an earlier run over
    a reused seed left behind is dropped first, so the figures are of one such board)."""
    from boards.models import Board

    for earlier in Board.objects.filter(name__regex=rf"^Bench {n_cards} [0-9]{{6}}$"):
        drop_board(earlier)
    bench = _bench(BoardBench)
    user = bench._user()
    started = time.perf_counter()
    board = bench._seed(n_cards, user)
    from boards.models import Card, CardIncident

    with connection.cursor() as cur:  # timed as PostgreSQL keeps a table, not just after a bulk write
        for model in (Card, CardIncident):
            cur.execute(f"VACUUM ANALYZE {model._meta.db_table}")
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
    # An earlier run over a reused seed left its sprints (one active per team is the rule).
    Sprint.objects.filter(team=team).delete()
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

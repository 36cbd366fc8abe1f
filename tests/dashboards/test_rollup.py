"""The one-pass SLA rollup: every compliance figure of a period from one statement, equal to
the definitions computed the slow way, bucketed in the viewer's time zone."""

import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboards import sla
from dashboards.filters import Scope
from dashboards.metrics import timer_rollup
from incidents.models import Incident
from org.models import Team
from sla.models import SLATimer
from tests.factories import CustomerFactory, ServiceFactory, TeamFactory
from tests.sla.factories import PolicyFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
H = timedelta(hours=1)


def _incident(n, created, *, service, customer=None, priority="P3"):
    return Incident.objects.create(
        key=f"INC-R{n}",
        title=f"r{n}",
        service=service,
        team=service.support_team,
        customer=customer,
        priority=priority,
        created_at=created,
    )


def _timer(incident, metric, *, policy, outcome):
    """outcome: "met", "breached" (stopped late), "breached_open", "running", "cancelled"."""
    stopped = incident.created_at + H * (2 if outcome != "breached" else 9)
    return SLATimer.objects.create(
        incident=incident,
        priority=incident.priority,
        team_id=incident.team_id,
        service_id=incident.service_id,
        customer_id=incident.customer_id,
        policy=policy,
        metric=metric,
        started_at=incident.created_at,
        due_at=incident.created_at + 4 * H,
        stopped_at=stopped if outcome in ("met", "breached", "cancelled") else None,
        breached_at=incident.created_at + 4 * H if outcome.startswith("breached") else None,
        is_active=outcome in ("running", "breached_open"),
        state={"breached_open": "breached"}.get(outcome, outcome),
    )


@pytest.fixture
def mixed():
    """Incidents over two weeks across teams, services, customers, priorities, with timers in
    every state, some without a policy and some outside the period."""
    rng = random.Random(20261122)
    teams = [TeamFactory(name=f"Team {i}") for i in range(3)]
    services = [ServiceFactory(name=f"Service {i}", support_team=teams[i % 3]) for i in range(4)]
    customers = [None, CustomerFactory(name="Acme"), CustomerFactory(name="Globex")]
    policy = PolicyFactory()
    for n in range(90):
        created = T0 - 2 * 24 * H + timedelta(minutes=rng.randrange(0, 18 * 24 * 60))
        inc = _incident(
            n,
            created,
            service=rng.choice(services),
            customer=rng.choice(customers),
            priority=rng.choice(["P1", "P2", "P3", "P4", "P5"]),
        )
        for metric in ("response", "resolution"):
            _timer(
                inc,
                metric,
                policy=None if n % 11 == 0 else policy,
                outcome=rng.choice(["met", "met", "breached", "breached_open", "running", "cancelled"]),
            )


def _reference(start, end, tz, condition=lambda t: True):
    """The definitions, row by row in Python (the test's slow oracle)."""
    overall = defaultdict(lambda: [0, 0])
    by = defaultdict(lambda: [0, 0])
    trend = defaultdict(lambda: [0, 0])
    acked, ack_time = 0, timedelta(0)
    for t in SLATimer.objects.all():
        if not (start <= t.started_at < end) or not condition(t):
            continue
        if t.state == "cancelled":
            continue  # void: neither met nor breached, and no acknowledgement
        if t.metric == "response" and t.stopped_at is not None:
            acked += 1
            ack_time += t.stopped_at - t.started_at
        if t.policy_id is None:
            continue
        if t.breached_at is not None:
            slot = 1
        elif not t.is_active:
            slot = 0
        else:
            continue
        overall[t.metric][slot] += 1
        for dim, value in (
            ("priority", t.priority),
            ("team", t.team_id),
            ("service", t.service_id),
            ("customer", t.customer_id),
        ):
            by[(dim, value, t.metric)][slot] += 1
        trend[(t.started_at.astimezone(tz).date(), t.metric)][slot] += 1
    return overall, by, trend, acked, ack_time


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata"])
def test_rollup_equals_the_definitions_row_by_row(mixed, zone):
    tz = ZoneInfo(zone)
    start = datetime.combine(date(2026, 3, 2), time.min, tzinfo=tz)
    end = start + timedelta(days=10)
    rolled = timer_rollup(start=start, end=end, weekly=False, tz=tz)
    overall, by, trend, acked, ack_time = _reference(start, end, tz)

    for metric in ("response", "resolution"):
        got = rolled.overall[metric]
        assert [got.met, got.breached] == overall[metric], metric
    for (dim, value, metric), counts in by.items():
        got = rolled.by[dim][value][metric]
        assert [got.met, got.breached] == counts, (dim, value, metric)
    for (day, metric), counts in trend.items():
        got = rolled.trend[day][metric]
        assert [got.met, got.breached] == counts, (day, metric)
    assert rolled.acknowledged == acked and acked > 0
    assert rolled.mtta == ack_time / acked


def test_rollup_narrowed_by_filters_on_the_timer_copies(mixed):
    team = Team.objects.get(name="Team 1")
    start, end = T0, T0 + timedelta(days=10)
    rolled = timer_rollup(start=start, end=end, condition=Q(team_id=team.pk))
    overall, by, *_ = _reference(start, end, UTC, lambda t: t.team_id == team.pk)
    for metric in ("response", "resolution"):
        assert [rolled.overall[metric].met, rolled.overall[metric].breached] == overall[metric]
    assert set(rolled.by["team"]) == {team.pk}


def test_trend_buckets_are_days_in_the_viewers_zone():
    service = ServiceFactory()
    policy = PolicyFactory()
    # 23:30 UTC on Monday 2 March is already Tuesday in Berlin.
    late = _incident(1, datetime(2026, 3, 2, 23, 30, tzinfo=UTC), service=service)
    _timer(late, "response", policy=policy, outcome="met")
    berlin = ZoneInfo("Europe/Berlin")
    with timezone.override(berlin):
        scope = Scope(
            start=datetime(2026, 3, 2, tzinfo=berlin),
            end=datetime(2026, 3, 4, tzinfo=berlin),
            first_day=date(2026, 3, 2),
            last_day=date(2026, 3, 3),
        )
        trend = sla.compliance_trend(scope)
    assert trend == [
        {"bucket": "2026-03-02", "response": None, "resolution": None},
        {"bucket": "2026-03-03", "response": 100.0, "resolution": None},
    ]


def test_weekly_buckets_start_on_monday():
    service = ServiceFactory()
    policy = PolicyFactory()
    for n, day in enumerate((3, 8, 9)):  # Wed 4 Mar, Mon 9 Mar, Tue 10 Mar (offsets from 1 Mar)
        inc = _incident(n, datetime(2026, 3, 1, 12, tzinfo=UTC) + timedelta(days=day), service=service)
        _timer(inc, "response", policy=policy, outcome="met" if n else "breached")
    rolled = timer_rollup(start=T0, end=T0 + timedelta(days=14), weekly=True, tz=UTC)
    assert sorted(rolled.trend) == [date(2026, 3, 2), date(2026, 3, 9)]
    assert rolled.trend[date(2026, 3, 2)]["response"].breached == 1
    assert rolled.trend[date(2026, 3, 9)]["response"].met == 2


def test_the_dashboard_reads_the_periods_timers_once(mixed):
    scope = Scope(
        start=T0, end=T0 + timedelta(days=10), first_day=date(2026, 3, 2), last_day=date(2026, 3, 11)
    )
    with CaptureQueriesContext(connection) as ctx:
        data = sla.sla_dashboard(scope, now=T0 + timedelta(days=11))
    period_reads = [q for q in ctx.captured_queries if '"sla_slatimer"."started_at" >=' in q["sql"]]
    assert len(period_reads) == 1
    # and what it read agrees with the breakdowns' own totals
    by_team = data["by"]["team"]
    for metric in ("response", "resolution"):
        assert sum(row[f"{metric}_met"] for row in by_team) == data["headline"][metric]["met"]
        assert sum(row[f"{metric}_breached"] for row in by_team) == data["headline"][metric]["breached"]

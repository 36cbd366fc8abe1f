"""Dashboard metric definitions on hand-built data: each number checked by hand."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from boards.models import Release
from dashboards import sla
from dashboards.delivery import suggested_support_allocation
from dashboards.filters import Scope
from dashboards.leadtime import lead_time_list, lead_time_summary
from escalation.models import Escalation, Outcome, Placement
from incidents.models import Incident, IncidentEvent
from sla.models import PauseCause, PausePeriod, SLATimer
from tests.boards.factories import BoardFactory, CardFactory
from tests.factories import CustomerFactory, DevTeamFactory, ServiceFactory, TeamFactory
from tests.sla.factories import PolicyFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def scope(days=7, **filters):
    return Scope(
        start=T0.replace(hour=0),
        end=T0.replace(hour=0) + timedelta(days=days),
        first_day=date(2026, 3, 2),
        last_day=date(2026, 3, 2) + timedelta(days=days - 1),
        **filters,
    )


_n = iter(range(1, 10_000))


def incident(created, *, service=None, resolved=None, tier=1, status="new", **kw):
    service = service or ServiceFactory()
    return Incident.objects.create(
        key=f"INC-{next(_n)}",
        title="x",
        service=service,
        team=kw.pop("team", service.support_team),
        created_at=created,
        resolved_at=resolved,
        tier=tier,
        status="resolved" if resolved else status,
        **kw,
    )


def timer(inc, metric, *, met=False, breached_at=None, state=None, warn_at=None, due_at=None):
    return SLATimer.objects.create(
        incident=inc,
        priority=inc.priority,
        team_id=inc.team_id,
        service_id=inc.service_id,
        customer_id=inc.customer_id,
        policy=PolicyFactory(),
        metric=metric,
        started_at=inc.created_at,
        due_at=due_at or inc.created_at + 4 * H,
        warn_at=warn_at,
        stopped_at=inc.created_at + H if met or (breached_at and state != "breached") else None,
        breached_at=breached_at,
        is_active=not met and state in (None, "running", "breached"),
        state=state or ("met" if met else "running"),
    )


def test_compliance_by_team_and_priority():
    a_team, b_team = TeamFactory(name="Alpha"), TeamFactory(name="Beta")
    sa, sb = ServiceFactory(support_team=a_team), ServiceFactory(support_team=b_team)
    i1 = incident(T0, service=sa, priority="P1")
    timer(i1, "response", met=True)
    timer(i1, "resolution", breached_at=T0 + 4 * H, state="breached")
    i2 = incident(T0 + H, service=sa, priority="P2")
    timer(i2, "response", breached_at=T0 + 2 * H, state="breached")
    i3 = incident(T0 + H, service=sb, priority="P2")
    timer(i3, "response", met=True)
    timer(i3, "resolution")  # running: undecided
    outside = incident(T0 + timedelta(days=8), service=sb, priority="P2")
    timer(outside, "response", breached_at=T0 + timedelta(days=8, hours=1), state="breached")

    by_team = {r["label"]: r for r in sla.compliance_by(scope(), "team")}
    assert by_team["Alpha"]["response_met"] == 1 and by_team["Alpha"]["response_breached"] == 1
    assert by_team["Alpha"]["response_compliance"] == 50.0
    assert by_team["Alpha"]["resolution_compliance"] == 0.0
    assert by_team["Beta"]["response_compliance"] == 100.0
    assert by_team["Beta"]["resolution_compliance"] is None  # nothing decided
    by_priority = {r["label"]: r for r in sla.compliance_by(scope(), "priority")}
    assert by_priority["P2"]["response_met"] == 1 and by_priority["P2"]["response_breached"] == 1
    only_alpha = sla.compliance_by(scope(team=a_team), "team")
    assert [r["label"] for r in only_alpha] == ["Alpha"]
    # breaches list: breach instants inside the period only
    assert {t.incident_id for t in sla.breaches(scope())} == {i1.pk, i2.pk}


def test_flow_backlog_tier_one_and_escalation_rate(monkeypatch):
    team1 = TeamFactory(tier=1)
    team2 = TeamFactory(tier=2)
    service = ServiceFactory(support_team=team1)
    # resolved at tier 1
    a = incident(T0, service=service, resolved=T0 + 2 * H)
    # raised to tier 2, then back to 1 before resolving: not tier-1
    b = incident(T0, service=service, resolved=T0 + timedelta(days=1))
    IncidentEvent.objects.create(incident=b, at=T0 + H, event="field_changed", field="tier", old="1", new="2")
    # resolved at tier 2 (created at tier 2)
    incident(T0 + H, service=service, team=team2, tier=2, resolved=T0 + timedelta(days=1, hours=3))
    # open, escalated to development
    d = incident(T0 + timedelta(days=1), service=service)
    board = BoardFactory(teams=[DevTeamFactory()])
    Escalation.objects.create(
        incident=d,
        card=CardFactory(board=board),
        at=T0 + timedelta(days=1, hours=2),
        from_team=team1,
        to_team=board.teams.first(),
        placement=Placement.BACKLOG,
    )
    share = sla.tier_one_share(scope())
    assert share == {"resolved": 3, "tier_one": 1, "share": 33.3}
    rate = sla.escalation_rate(scope())
    assert rate == {"created": 4, "escalated": 1, "rate": 25.0}

    flow = {r["bucket"]: r for r in sla.flow(scope())}
    assert flow["2026-03-02"] == {"bucket": "2026-03-02", "created": 3, "resolved": 1}
    assert flow["2026-03-03"] == {"bucket": "2026-03-03", "created": 1, "resolved": 2}
    assert sum(r["created"] for r in flow.values()) == 4 and len(flow) == 7

    backlog = {r["key"]: r["count"] for r in sla.backlog_age(scope(), now=T0 + timedelta(days=5))}
    assert backlog == {"under_1d": 0, "d1_3": 0, "d3_7": 1, "d7_30": 0, "over_30d": 0}
    assert a.pk  # referenced for clarity


def test_paused_time_by_cause_is_clipped_to_the_period_and_skips_stopped():
    inc = incident(T0)
    resolution = timer(inc, "resolution")
    response = timer(inc, "response")
    start = T0.replace(hour=0)
    # 3 h awaiting customer inside the period
    PausePeriod.objects.create(
        timer=resolution, cause=PauseCause.CUSTOMER, started_at=T0, ended_at=T0 + 3 * H
    )
    # vendor pause that started 2 h before the period: only the part inside counts (1 h)
    PausePeriod.objects.create(
        timer=resolution, cause=PauseCause.VENDOR, started_at=start - 2 * H, ended_at=start + H
    )
    # "stopped" is not a pause; the response clock's pauses are not counted
    PausePeriod.objects.create(timer=resolution, cause=PauseCause.STOPPED, started_at=T0, ended_at=T0 + 9 * H)
    PausePeriod.objects.create(timer=response, cause=PauseCause.CUSTOMER, started_at=T0, ended_at=T0 + 5 * H)
    rows = {r["cause"]: r for r in sla.paused_by_cause(scope(), now=T0 + timedelta(days=30))}
    assert set(rows) == {"customer", "vendor"}
    assert rows["customer"]["hours"] == 3.0 and rows["vendor"]["hours"] == 1.0


def test_at_risk_now_is_running_past_warning_only():
    now = timezone.now()
    a = incident(now - 2 * H)
    timer(a, "response", warn_at=now - H, due_at=now + H)
    b = incident(now - 2 * H)
    timer(b, "response", warn_at=now + H, due_at=now + 2 * H)  # not yet warned
    c = incident(now - 2 * H)
    timer(c, "response", warn_at=now - H, breached_at=now - H, state="breached")  # already breached
    assert [t.incident_id for t in sla.at_risk_now(scope())] == [a.pk]


def test_at_risk_first_soonest_due_and_the_count_by_either_path(monkeypatch):
    now = timezone.now()
    expected = []
    for hours in (5, 1, 3, 2, 4):
        inc = incident(now - 2 * H)
        expected.append((hours, timer(inc, "resolution", warn_at=now - H, due_at=now + hours * H).pk))
    timer(incident(now - 2 * H), "resolution", warn_at=now + H, due_at=now + 2 * H)  # not warned yet
    soonest = [pk for _hours, pk in sorted(expected)][:3]
    # Few at risk: probed through the index and sorted here; many: sorted by the database.
    for probe in (sla.AT_RISK_PROBE, 2):
        monkeypatch.setattr(sla, "AT_RISK_PROBE", probe)
        rows, count = sla.at_risk_first(scope(), limit=3)
        assert ([t.pk for t in rows], count) == (soonest, 5), probe


def _escalation(
    *, reported, raised=None, escalated, started, done, deployed=None, initial_tier=1, release=True
):
    support = TeamFactory(tier=1)
    dev = DevTeamFactory()
    board = BoardFactory(teams=[dev])
    inc = incident(reported, service=ServiceFactory(support_team=support), tier=3)
    if raised:
        IncidentEvent.objects.create(
            incident=inc, at=raised, event="field_changed", field="tier", old="1", new="2"
        )
    IncidentEvent.objects.create(
        incident=inc,
        at=escalated,
        event="field_changed",
        field="tier",
        old=str(initial_tier if not raised else 2),
        new="3",
    )
    rel = None
    if release:
        rel = Release.objects.create(board=board, name=f"r{inc.pk}", deployed_at=deployed)
    card = CardFactory(board=board, started_at=started, done_at=done, release=rel)
    return Escalation.objects.create(
        incident=inc,
        card=card,
        at=escalated,
        from_team=support,
        to_team=dev,
        placement=Placement.EXPEDITE,
        outcome=Outcome.DONE,
        returned_at=done,
    )


def test_lead_time_split_into_five_segments():
    # report → 2 h tier-1 wait → 3 h tier-2 → 5 h dev queue → 8 h dev work → 6 h release wait
    full = _escalation(
        reported=T0,
        raised=T0 + 2 * H,
        escalated=T0 + 5 * H,
        started=T0 + 10 * H,
        done=T0 + 18 * H,
        deployed=T0 + 24 * H,
    )
    # straight from tier 1 to development; card already in progress when linked; no release
    direct = _escalation(reported=T0, escalated=T0 + 4 * H, started=T0 - H, done=T0 + 6 * H, release=False)
    # created at tier 2: no tier-1 wait
    at_tier2 = _escalation(
        reported=T0, escalated=T0 + 3 * H, started=T0 + 4 * H, done=T0 + 5 * H, initial_tier=2, release=False
    )
    # release not deployed yet: still waiting, left out
    _escalation(reported=T0, escalated=T0 + H, started=T0 + 2 * H, done=T0 + 3 * H, deployed=None)

    rows = {e.pk: e for e in lead_time_list(scope())}
    assert set(rows) == {full.pk, direct.pk, at_tier2.pk}

    def hours(e):
        return [round(getattr(e, k).total_seconds() / 3600, 2) for k in
                ("tier1_wait", "tier2_work", "dev_queue", "dev_work", "release_wait", "total")]  # fmt: skip

    assert hours(rows[full.pk]) == [2, 3, 5, 8, 6, 24]
    assert hours(rows[direct.pk]) == [4, 0, 0, 2, 0, 6]
    assert hours(rows[at_tier2.pk]) == [0, 3, 1, 1, 0, 5]

    summary = lead_time_summary(scope())
    assert summary["count"] == 3
    assert summary["total_hours"] == round((24 + 6 + 5) / 3, 1)
    segments = {s["key"]: s["hours"] for s in summary["segments"]}
    assert segments["tier1_wait"] == 2.0 and segments["dev_work"] == round((8 + 2 + 1) / 3, 1)
    # the period is the delivery instant: none delivered in a later week
    later = Scope(
        start=T0 + timedelta(days=7),
        end=T0 + timedelta(days=14),
        first_day=date(2026, 3, 9),
        last_day=date(2026, 3, 15),
    )
    assert lead_time_summary(later)["count"] == 0


def test_suggested_support_allocation():
    assert suggested_support_allocation([], current=20) is None
    history = [
        {"capacity": Decimal("40"), "support_share": Decimal("10")},
        {"capacity": Decimal("40"), "support_share": Decimal("22")},
        {"capacity": Decimal("40"), "support_share": Decimal("30")},
        {"capacity": Decimal("0"), "support_share": Decimal("0")},  # no capacity: ignored
    ]
    s = suggested_support_allocation(history, current=20)
    assert s["percent"] == 25 and s["mean_share"] == 20.7 and s["max_share"] == 30.0 and s["change"] == 5
    exact = suggested_support_allocation([{"capacity": 10, "support_share": 15}], current=20)
    assert exact["percent"] == 15
    assert (
        suggested_support_allocation([{"capacity": 10, "support_share": 180}], current=20)["percent"] == 100
    )


def test_customer_filter_narrows_everything():
    acme = CustomerFactory()
    mine = incident(T0, customer=acme)
    timer(mine, "response", met=True)
    other = incident(T0)
    timer(other, "response", breached_at=T0 + H, state="breached")
    narrowed = sla.sla_dashboard(scope(customer=acme), now=T0 + timedelta(days=1))
    assert narrowed["headline"]["response"]["compliance"] == 100.0
    assert narrowed["breach_count"] == 0

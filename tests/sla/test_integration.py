"""SLA timers through the real incidents services (create, take, hold, reply, resolve,
reopen, priority override) and the incident API's sla items."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from incidents import services as inc
from sla.models import PauseCause, TimerState
from sla.selectors import timer_remaining_seconds
from tests.factories import ServiceFactory

from .factories import PolicyFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def at(day, hh, mm=0):
    return datetime(2025, 1, day, hh, mm, tzinfo=LONDON)  # 13 Jan 2025 is a Monday


def timers(incident):
    return {t.metric: t for t in incident.sla_timers.select_related("policy__calendar")}


@pytest.fixture
def setup(make_user):
    PolicyFactory(priority="P2", response_minutes=60, resolution_minutes=240)
    PolicyFactory(priority="P1", response_minutes=15, resolution_minutes=60)
    service = ServiceFactory()
    agent = make_user("service_desk")
    service.support_team.members.add(agent)
    return service, agent


def test_lifecycle_through_the_incidents_service(setup):
    service, agent = setup
    incident = inc.incident_create(
        actor=agent, title="Login fails", service=service, impact="high", urgency="medium", at=at(10, 16, 30)
    )
    assert incident.priority == "P2"
    t = timers(incident)
    assert t["resolution"].due_at == at(13, 12, 30)
    assert t["response"].due_at == at(13, 9, 30)

    inc.incident_comment(incident=incident, actor=agent, body="We are on it", public=True, at=at(13, 9, 10))
    assert timers(incident)["response"].state == TimerState.MET

    inc.incident_take(incident=incident, actor=agent, at=at(13, 9, 15))
    inc.incident_transition(
        incident=incident, actor=agent, status="on_hold", reason="awaiting_customer", at=at(13, 10)
    )
    t = timers(incident)["resolution"]
    assert t.state == TimerState.PAUSED
    assert timer_remaining_seconds(t) == 150 * 60  # 30 min Friday + 60 min Monday used
    inc.incident_transition(incident=incident, actor=agent, status="in_progress", at=at(13, 14))
    t = timers(incident)["resolution"]
    assert t.due_at == at(13, 16, 30)
    assert t.pauses.get().cause == PauseCause.CUSTOMER

    inc.incident_transition(
        incident=incident, actor=agent, status="resolved", resolution_code="fixed", note="ok", at=at(13, 15)
    )
    assert timers(incident)["resolution"].state == TimerState.MET
    inc.incident_transition(incident=incident, actor=agent, status="in_progress", at=at(14, 9))
    t = timers(incident)["resolution"]
    assert t.state == TimerState.RUNNING
    assert t.due_at == at(14, 10, 30)  # 90 minutes were left at 15:00 on Monday


def test_priority_override_reselects(setup, make_user):
    service, agent = setup
    manager = make_user("manager")
    incident = inc.incident_create(
        actor=agent, title="Slow", service=service, impact="high", urgency="medium", at=at(13, 9)
    )
    inc.incident_set_priority(
        incident=incident, actor=manager, priority="P1", reason="Board meeting", at=at(13, 9, 5)
    )
    t = timers(incident)
    assert t["resolution"].due_at == at(13, 10)
    assert t["response"].due_at == at(13, 9, 15)


def test_incident_api_shows_sla_items(setup, api, desk_user):
    service, agent = setup
    incident = inc.incident_create(
        actor=agent, title="Down", service=service, impact="high", urgency="medium"
    )
    resp = api.as_user(desk_user).get(f"/api/v1/incidents/{incident.pk}/")
    assert resp.status_code == 200
    items = {s["metric"]: s for s in resp.json()["sla"]}
    assert set(items) == {"response", "resolution"}
    assert items["resolution"]["state"] == "running"
    assert items["resolution"]["remaining_seconds"] > 0
    assert {"due_at", "breached_at"} <= set(items["resolution"])

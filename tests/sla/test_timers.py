"""Timers following the incident lifecycle, through the hooks the incidents service calls."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from incidents.models import IncidentEvent
from sla.models import PauseCause, PausePeriod, SLAEvent, TimerState
from sla.selectors import timer_remaining_seconds
from sla.services import sla_on_incident_changed, sla_on_incident_created, sla_on_public_reply

from .factories import CalendarFactory, PolicyFactory, make_incident

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def at(day, hh, mm=0):
    return datetime(2025, 1, day, hh, mm, tzinfo=LONDON)  # 13 Jan 2025 is a Monday


def timers(incident):
    return {t.metric: t for t in incident.sla_timers.select_related("policy__calendar")}


def change(incident, when, **fields):
    changes = {}
    for field, new in fields.items():
        changes[field] = (getattr(incident, field), new)
        setattr(incident, field, new)
    incident.save()
    sla_on_incident_changed(incident=incident, changes=changes, at=when)


@pytest.fixture
def policy():
    return PolicyFactory(priority="P2", response_minutes=60, resolution_minutes=240)


def test_created_friday_afternoon_due_monday(policy):
    inc = make_incident(created_at=at(10, 16, 30))
    sla_on_incident_created(incident=inc, at=inc.created_at)
    t = timers(inc)
    assert t["resolution"].due_at == at(13, 12, 30)
    assert t["resolution"].warn_at == at(13, 11, 30)  # 75 % of 240 min = 180 min
    assert t["response"].due_at == at(13, 9, 30)
    assert t["resolution"].state == TimerState.RUNNING
    assert timer_remaining_seconds(t["resolution"], at(13, 12, 0)) == 30 * 60
    assert timer_remaining_seconds(t["resolution"], at(13, 13, 0)) == -30 * 60


def test_response_met_by_first_public_reply(policy):
    inc = make_incident(created_at=at(13, 9))
    sla_on_incident_created(incident=inc, at=inc.created_at)
    sla_on_public_reply(incident=inc, at=at(13, 9, 20))
    t = timers(inc)
    assert t["response"].state == TimerState.MET
    assert t["response"].stopped_at == at(13, 9, 20)
    assert timer_remaining_seconds(t["response"], at(14, 9)) == 40 * 60
    assert t["resolution"].state == TimerState.RUNNING


def test_response_met_when_taken_in_progress(policy):
    inc = make_incident(created_at=at(13, 9))
    sla_on_incident_created(incident=inc, at=inc.created_at)
    change(inc, at(13, 9, 45), status="in_progress")
    assert timers(inc)["response"].state == TimerState.MET


def test_pause_awaiting_customer_records_cause_and_moves_due(policy):
    inc = make_incident(created_at=at(13, 9))
    sla_on_incident_created(incident=inc, at=inc.created_at)
    change(inc, at(13, 10), status="on_hold", hold_reason="awaiting_customer")
    t = timers(inc)["resolution"]
    assert t.state == TimerState.PAUSED
    assert t.due_at is None
    assert timer_remaining_seconds(t, at(20, 9)) == 3 * 3600
    change(inc, at(14, 16), status="in_progress", hold_reason="")
    t = timers(inc)["resolution"]
    assert t.state == TimerState.RUNNING
    # 1 h counted Monday, 3 h left from Tuesday 16:00: 1 h Tuesday + 2 h Wednesday.
    assert t.due_at == at(15, 11)
    pause = PausePeriod.objects.get(timer=t)
    assert (pause.cause, pause.started_at, pause.ended_at) == (PauseCause.CUSTOMER, at(13, 10), at(14, 16))


def test_awaiting_development_does_not_pause(policy):
    inc = make_incident(created_at=at(13, 9))
    sla_on_incident_created(incident=inc, at=inc.created_at)
    change(inc, at(13, 10), status="on_hold", hold_reason="awaiting_development")
    t = timers(inc)["resolution"]
    assert t.state == TimerState.RUNNING
    assert t.due_at == at(13, 13)


def test_resolution_stops_and_resumes_on_reopen_keeping_elapsed(policy):
    inc = make_incident(created_at=at(13, 9))
    sla_on_incident_created(incident=inc, at=inc.created_at)
    change(inc, at(13, 11), status="resolved")
    t = timers(inc)["resolution"]
    assert (t.state, t.is_active) == (TimerState.MET, False)
    assert timer_remaining_seconds(t) == 2 * 3600
    change(inc, at(14, 9), status="in_progress")
    t = timers(inc)["resolution"]
    assert (t.state, t.is_active) == (TimerState.RUNNING, True)
    assert t.due_at == at(14, 11)  # 2 h were used on Monday


def test_priority_change_reselects_policy_from_original_start(policy):
    p1 = PolicyFactory(priority="P1", response_minutes=15, resolution_minutes=60, calendar=policy.calendar)
    inc = make_incident(created_at=at(13, 9))
    sla_on_incident_created(incident=inc, at=inc.created_at)
    change(inc, at(13, 9, 30), priority="P1")
    t = timers(inc)
    assert t["resolution"].policy == p1
    assert t["resolution"].due_at == at(13, 10)
    # The response target of 15 min had passed by 09:30: breached at its true instant.
    assert t["response"].state == TimerState.BREACHED
    assert t["response"].breached_at == at(13, 9, 15)
    assert SLAEvent.objects.filter(timer=t["response"], kind="breach").count() == 1
    assert IncidentEvent.objects.filter(incident=inc, event="sla_breach").count() == 1
    # Back to P2: the recorded breach stays.
    change(inc, at(13, 9, 40), priority="P2")
    t = timers(inc)
    assert t["response"].state == TimerState.BREACHED
    assert t["response"].due_at == at(13, 10)
    assert t["resolution"].due_at == at(13, 13)


def test_most_specific_policy_wins(policy):
    inc = make_incident(created_at=at(13, 9))
    by_service = PolicyFactory(priority="P2", service=inc.service, calendar=policy.calendar)
    PolicyFactory(priority="P2", service=inc.service, active=False, calendar=policy.calendar)
    PolicyFactory(priority="P3", service=inc.service, calendar=policy.calendar)
    sla_on_incident_created(incident=inc, at=inc.created_at)
    assert timers(inc)["resolution"].policy == by_service


def test_no_policy_gives_timers_without_target_until_a_policy_is_created(policy):
    from sla.services import policy_create

    inc = make_incident(created_at=at(13, 9), priority="P5")
    sla_on_incident_created(incident=inc, at=inc.created_at)
    t = timers(inc)
    assert set(t) == {"response", "resolution"}
    assert t["resolution"].policy is None and t["resolution"].due_at is None
    assert t["resolution"].state == TimerState.RUNNING

    p5 = policy_create(
        name="P5 later", priority="P5", response_minutes=60, resolution_minutes=120, calendar=policy.calendar
    )
    t = timers(inc)
    assert t["resolution"].policy == p5
    assert t["resolution"].due_at is not None  # recomputed from the original start


def test_on_hold_in_a_24x7_calendar_pauses_across_the_weekend():
    cal = CalendarFactory(always_open=True, hours={})
    PolicyFactory(priority="P1", response_minutes=15, resolution_minutes=240, calendar=cal)
    inc = make_incident(created_at=at(10, 16), priority="P1")
    sla_on_incident_created(incident=inc, at=inc.created_at)
    assert timers(inc)["resolution"].due_at == at(10, 20)
    change(inc, at(10, 17), status="on_hold", hold_reason="awaiting_vendor")
    change(inc, at(13, 9), status="in_progress", hold_reason="")
    assert timers(inc)["resolution"].due_at == at(13, 12)
    assert timers(inc)["resolution"].pauses.get().cause == PauseCause.VENDOR


def test_resolving_after_due_before_the_sweep_records_the_breach(policy):
    inc = make_incident(created_at=at(13, 9))
    sla_on_incident_created(incident=inc, at=inc.created_at)
    change(inc, at(13, 13, 10), status="resolved")
    t = timers(inc)["resolution"]
    assert t.state == TimerState.BREACHED
    assert t.breached_at == at(13, 13)
    assert timer_remaining_seconds(t) == -10 * 60
    assert t.due_at - t.started_at == timedelta(hours=4)


def test_cancelling_voids_clocks_not_yet_met_or_breached(policy):
    inc = make_incident(created_at=at(13, 9))
    sla_on_incident_created(incident=inc, at=inc.created_at)
    change(inc, at(13, 9, 30), status="cancelled")
    t = timers(inc)
    assert (t["response"].state, t["response"].is_active) == (TimerState.CANCELLED, False)
    assert (t["resolution"].state, t["resolution"].is_active) == (TimerState.CANCELLED, False)
    assert t["resolution"].stopped_at == at(13, 9, 30)


def test_cancelling_keeps_a_response_already_given_and_a_breach_already_recorded(policy):
    inc = make_incident(created_at=at(13, 9))
    sla_on_incident_created(incident=inc, at=inc.created_at)
    sla_on_public_reply(incident=inc, at=at(13, 9, 20))
    change(inc, at(13, 9, 25), status="in_progress")
    change(inc, at(13, 14), status="cancelled")  # resolution was due at 13:00
    t = timers(inc)
    assert t["response"].state == TimerState.MET
    assert t["response"].stopped_at == at(13, 9, 20)
    assert t["resolution"].state == TimerState.BREACHED
    assert t["resolution"].breached_at == at(13, 13)


def test_cancelling_an_incident_on_hold_closes_the_pause(policy):
    inc = make_incident(created_at=at(13, 9))
    sla_on_incident_created(incident=inc, at=inc.created_at)
    change(inc, at(13, 9, 10), status="in_progress")
    change(inc, at(13, 10), status="on_hold", hold_reason="awaiting_customer")
    change(inc, at(13, 11), status="cancelled", hold_reason="")
    t = timers(inc)["resolution"]
    assert (t.state, t.paused_at) == (TimerState.CANCELLED, None)
    assert t.pauses.get().ended_at == at(13, 11)


def test_the_migration_voids_only_clocks_the_cancellation_stopped(engineer_user):
    """Old data recorded every stopped clock of a cancelled incident as met; the data
    migration keeps a response given before the cancellation and voids the rest."""
    import importlib

    from django.apps import apps

    from incidents.services import incident_create, incident_take, incident_transition
    from sla.models import SLATimer
    from tests.factories import ServiceFactory

    migration = importlib.import_module("sla.migrations.0006_covering_indexes_cancelled_state")
    taken = incident_create(actor=engineer_user, title="Taken then cancelled", service=ServiceFactory())
    incident_take(incident=taken, actor=engineer_user)
    incident_transition(incident=taken, actor=engineer_user, status="cancelled", reason="Duplicate")
    straight = incident_create(actor=engineer_user, title="Cancelled at once", service=ServiceFactory())
    incident_transition(incident=straight, actor=engineer_user, status="cancelled", reason="Test")
    SLATimer.objects.filter(incident__in=[taken, straight]).update(state="met")  # as before the fix

    migration.void_clocks_of_cancelled_incidents(apps, None)

    assert timers(taken)["response"].state == TimerState.MET
    assert timers(taken)["resolution"].state == TimerState.CANCELLED
    assert {t.state for t in timers(straight).values()} == {TimerState.CANCELLED}

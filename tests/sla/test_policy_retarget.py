"""Editing a policy (or its calendar) recomputes the clocks it still runs, from their
original start; clocks already met or breached keep their outcome."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from sla.models import SLAEvent, SLAPolicy, TimerState
from sla.services import (
    calendar_update,
    policies_awaiting_retarget,
    policy_create,
    policy_retarget,
    policy_update,
    sla_on_incident_changed,
    sla_on_incident_created,
    sla_on_public_reply,
)
from tests.factories import CustomerFactory
from tests.threads import at_once

from .factories import PolicyFactory, make_incident

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def at(day, hh, mm=0):
    return datetime(2025, 1, day, hh, mm, tzinfo=LONDON)  # 13 Jan 2025 is a Monday


def timers(incident):
    return {t.metric: t for t in incident.sla_timers.select_related("policy")}


@pytest.fixture
def policy():
    return PolicyFactory(priority="P2", response_minutes=60, resolution_minutes=240)


@pytest.fixture
def running(policy):
    """Logged Monday 09:00, answered 09:20: response met, resolution due 13:00."""
    inc = make_incident(created_at=at(13, 9))
    sla_on_incident_created(incident=inc, at=inc.created_at)
    sla_on_public_reply(incident=inc, at=at(13, 9, 20))
    return inc


def test_a_longer_target_moves_running_clocks_and_leaves_met_ones(policy, running):
    assert timers(running)["resolution"].due_at == at(13, 13)
    with transaction.atomic():
        policy_update(policy=policy, resolution_minutes=480, response_minutes=10)
    assert SLAPolicy.objects.get(pk=policy.pk).retarget_requested_at is not None
    assert policy_retarget(policy_id=policy.pk, at=at(13, 10)) == 1
    t = timers(running)
    assert (t["resolution"].target_minutes, t["resolution"].due_at) == (480, at(13, 17))
    assert t["resolution"].state == TimerState.RUNNING
    # the response was met at 09:20 under 60 minutes; a 10-minute target now does not undo that
    assert (t["response"].state, t["response"].target_minutes) == (TimerState.MET, 60)
    assert SLAPolicy.objects.get(pk=policy.pk).retarget_requested_at is None


def test_a_shorter_target_already_passed_breaches_at_the_new_due_once(policy, running):
    policy_update(policy=policy, resolution_minutes=60)
    policy_retarget(policy_id=policy.pk, at=at(13, 11))
    t = timers(running)["resolution"]
    assert (t.state, t.breached_at) == (TimerState.BREACHED, at(13, 10))
    # asked again (a duplicate task): same instants, the breach fired once
    SLAPolicy.objects.filter(pk=policy.pk).update(retarget_requested_at=at(13, 11))
    policy_retarget(policy_id=policy.pk, at=at(13, 11, 5))
    assert timers(running)["resolution"].breached_at == at(13, 10)
    assert SLAEvent.objects.filter(timer=t, kind="breach").count() == 1


def test_changed_pause_rules_apply_to_a_clock_on_hold(policy):
    inc = make_incident(created_at=at(13, 9))
    sla_on_incident_created(incident=inc, at=inc.created_at)
    inc.status, inc.hold_reason = "on_hold", "awaiting_customer"
    inc.save()
    sla_on_incident_changed(
        incident=inc,
        changes={"status": ("new", "on_hold"), "hold_reason": ("", "awaiting_customer")},
        at=at(13, 10),
    )
    assert timers(inc)["resolution"].state == TimerState.PAUSED
    policy_update(policy=policy, pause_on=["awaiting_vendor"])
    policy_retarget(policy_id=policy.pk, at=at(13, 11))
    t = timers(inc)["resolution"]
    assert t.state == TimerState.RUNNING
    assert t.due_at == at(13, 14)  # the hour on hold (10:00-11:00) did not count


def test_a_more_specific_policy_created_later_takes_over_running_clocks(policy):
    acme = CustomerFactory(name="Acme")
    inc = make_incident(created_at=at(13, 9), customer=acme)
    sla_on_incident_created(incident=inc, at=inc.created_at)
    gold = policy_create(
        name="Acme P2",
        priority="P2",
        customer=acme,
        response_minutes=30,
        resolution_minutes=120,
        calendar=policy.calendar,
        warn_percent=75,
    )
    policy_retarget(policy_id=policy.pk, at=at(13, 9, 10))
    t = timers(inc)
    assert t["resolution"].policy_id == gold.pk
    assert t["resolution"].due_at == at(13, 11)
    assert t["response"].due_at == at(13, 9, 30)


def test_deactivated_policy_keeps_the_clocks_no_other_policy_matches(policy, running):
    policy_update(policy=policy, active=False)
    policy_retarget(policy_id=policy.pk, at=at(13, 10))
    t = timers(running)["resolution"]
    assert (t.policy_id, t.due_at, t.state) == (policy.pk, at(13, 13), TimerState.RUNNING)


def test_a_calendar_edit_recomputes_the_clocks_of_its_policies(policy, running):
    hours = {d: [["09:00", "11:00"]] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": [], "sun": []}
    calendar_update(calendar=policy.calendar, hours=hours)
    policy_retarget(policy_id=policy.pk, at=at(13, 10))
    # 2 business hours on Monday, 2 on Tuesday
    assert timers(running)["resolution"].due_at == at(14, 11)


def test_the_sweep_finds_a_request_whose_task_never_ran(policy, running):
    policy_update(policy=policy, resolution_minutes=300)
    requested = SLAPolicy.objects.get(pk=policy.pk).retarget_requested_at
    assert policies_awaiting_retarget(now=requested + timedelta(seconds=30)) == []
    assert policies_awaiting_retarget(now=requested + timedelta(minutes=3)) == [policy.pk]


def test_a_renamed_policy_asks_for_nothing(policy, running):
    policy_update(policy=policy, name="Renamed")
    assert SLAPolicy.objects.get(pk=policy.pk).retarget_requested_at is None


def test_one_run_per_policy_at_a_time(policy, running):
    from django.utils import timezone

    policy_update(policy=policy, resolution_minutes=300)
    now = timezone.now()
    SLAPolicy.objects.filter(pk=policy.pk).update(retarget_started_at=now)  # another run holds it
    assert policy_retarget(policy_id=policy.pk, at=at(13, 10)) == 0
    assert timers(running)["resolution"].target_minutes == 240
    # the sweep leaves a run with a fresh lease alone, and takes over a dead one
    SLAPolicy.objects.filter(pk=policy.pk).update(retarget_requested_at=now - timedelta(minutes=3))
    assert policies_awaiting_retarget(now=now) == []
    SLAPolicy.objects.filter(pk=policy.pk).update(retarget_started_at=now - timedelta(minutes=6))
    assert policies_awaiting_retarget(now=now) == [policy.pk]
    assert policy_retarget(policy_id=policy.pk, at=at(13, 10)) == 1
    assert timers(running)["resolution"].target_minutes == 300
    assert SLAPolicy.objects.filter(pk=policy.pk, retarget_started_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_two_managers_saving_policies_of_one_priority_at_once_do_not_deadlock():
    from functools import partial

    calendar = PolicyFactory(priority="P4").calendar
    for round_no in range(10):
        a = PolicyFactory(priority="P2", calendar=calendar)
        b = PolicyFactory(priority="P2", calendar=calendar)
        outcomes = at_once(
            partial(policy_update, policy=a, resolution_minutes=300),
            partial(policy_update, policy=b, resolution_minutes=360),
            atomic=True,
        )
        assert outcomes == ["ok", "ok"], (round_no, outcomes)

"""Breach actions act on the incident as it is now: one support tier up at most (never
into development), the assignee kept or told, the reason in the timeline, and nothing
automatic for a breach that is stale or that the incident has moved on from."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import Incident, IncidentEvent
from notifications.models import Kind, Notification
from sla import services
from sla.models import SLAEvent
from tests.factories import TeamFactory

from .scenarios import back_from_development, scene, tier2_incident

pytestmark = pytest.mark.django_db


def fire_breach(incident, now):
    """The sweep records the breach; its action task runs (here, in-process) at `now`."""
    services.sla_sweep_tick(now=now, dispatch=False)
    event = SLAEvent.objects.get(timer__incident=incident, timer__metric="resolution", kind="breach")
    assert services.sla_event_handle(event_id=event.pk, now=now) is True
    return event, Incident.objects.select_related("team", "assignee").get(pk=incident.pk)


def desk_incident(s, *, minutes_ago):
    """Tier 1, taken by the desk user; its 240-minute resolution clock is due
    `minutes_ago - 240` minutes ago."""
    from incidents.services import incident_create, incident_take

    logged = timezone.now() - timedelta(minutes=minutes_ago)
    incident = incident_create(
        actor=s.desk,
        title="Card payments fail",
        service=s.service,
        impact="high",
        urgency="medium",
        at=logged,
    )
    return incident_take(incident=incident, actor=s.desk, at=logged + timedelta(minutes=5))


def test_fresh_breach_escalates_to_the_support_group_the_assignee_is_in_and_says_why():
    s = scene()
    desk_plus = TeamFactory(name="Desk Plus", tier=2, members=[s.desk])  # "App Support" sorts first
    incident = desk_incident(s, minutes_ago=241)
    event, incident = fire_breach(incident, timezone.now())
    assert (incident.team, incident.tier, incident.assignee) == (desk_plus, 2, s.desk)
    escalated = IncidentEvent.objects.get(incident=incident, event="escalated")
    assert escalated.actor is None and escalated.new == "Desk Plus"
    assert (
        f"because the resolution SLA (P2 standard) breached at {event.at:%d %b %Y %H:%M} UTC"
        in escalated.note
    )
    assert "Dana Desk stays assigned" in escalated.note


def test_fresh_breach_that_must_change_the_assignee_tells_them_and_the_timeline():
    s = scene()
    incident = desk_incident(s, minutes_ago=241)
    _event, incident = fire_breach(incident, timezone.now())
    assert (incident.team, incident.tier, incident.assignee) == (s.support_team, 2, None)
    escalated = IncidentEvent.objects.get(incident=incident, event="escalated")
    assert "Dana Desk is not in App Support, so is unassigned and was told" in escalated.note
    told = Notification.objects.get(recipient=s.desk, kind=Kind.UNASSIGNED, incident=incident)
    assert "no longer assigned to you" in told.title and "App Support" in told.body


@pytest.mark.parametrize("tier3_group", [False, True])
def test_a_tier_2_breach_never_escalates_into_development(tier3_group):
    s = scene()
    experts = TeamFactory(name="Platform Experts", tier=3, members=[s.engineer]) if tier3_group else None
    incident = tier2_incident(s, logged_at=timezone.now() - timedelta(minutes=241))
    _event, incident = fire_breach(incident, timezone.now())
    assert not incident.team.is_development
    assert incident.assignee == s.engineer
    if tier3_group:
        assert (incident.team, incident.tier) == (experts, 3)
    else:
        assert (incident.team, incident.tier) == (s.support_team, 2)
        note = IncidentEvent.objects.get(incident=incident, event="sla_breach_action").note
        assert "automatic escalation skipped because there is no support group at tier 3" in note
    # at tier 3 there is no further support tier: a second breach would not move it
    assert services.actions._next_support_group(incident) is None or not tier3_group


def test_late_breach_of_an_incident_back_from_development_is_not_acted_on_and_says_why():
    s = scene(major=True)
    incident = back_from_development(s, days_ago=4)
    escalations_before = IncidentEvent.objects.filter(incident=incident, event="escalated").count()
    event, incident = fire_breach(incident, timezone.now())
    assert event.at < timezone.now() - timedelta(days=3)  # recorded at the true due instant
    assert (incident.team, incident.tier, incident.assignee) == (s.support_team, 2, s.engineer)
    assert not incident.is_major
    assert IncidentEvent.objects.filter(incident=incident, event="escalated").count() == escalations_before
    note = IncidentEvent.objects.get(incident=incident, event="sla_breach_action").note
    assert f"Resolution SLA breach at {event.at:%d %b %Y %H:%M} UTC detected late (3 d" in note
    assert "automatic escalation and major-incident declaration skipped because" in note
    assert "it was escalated to development since the breach" in note
    assert "it came back from development since the breach" in note
    # the people still hear of the breach
    assert Notification.objects.filter(recipient=s.engineer, kind=Kind.SLA_BREACH, incident=incident).exists()


def test_fresh_breach_while_development_works_on_it_is_not_acted_on():
    from escalation.services import incident_escalate_to_development

    s = scene(major=True)
    logged = timezone.now() - timedelta(minutes=241)
    incident = tier2_incident(s, logged_at=logged)
    incident_escalate_to_development(
        incident=incident, actor=s.engineer, note="Bug", at=logged + timedelta(hours=1)
    )
    _event, incident = fire_breach(incident, timezone.now())
    assert not incident.is_major
    note = IncidentEvent.objects.get(incident=incident, event="sla_breach_action").note
    assert "it is on hold awaiting development" in note
    assert (
        IncidentEvent.objects.filter(incident=incident, event__in=("escalated", "declared_major"))
        .filter(actor=None)
        .count()
        == 0
    )


@pytest.mark.parametrize(("window", "acted"), [(15, False), (30, True)])
def test_the_freshness_window_is_a_setting(settings, window, acted):
    settings.SLA_BREACH_ACTION_FRESH_MINUTES = window
    s = scene()
    incident = tier2_incident(s, logged_at=timezone.now() - timedelta(minutes=260))  # due 20 min ago
    TeamFactory(name="Platform Experts", tier=3, members=[s.engineer])
    _event, incident = fire_breach(incident, timezone.now())
    assert (incident.tier == 3) is acted
    skipped = IncidentEvent.objects.filter(incident=incident, event="sla_breach_action").first()
    assert (skipped is None) is acted
    if not acted:
        assert (
            "the breach is 20 min old and breach actions act only within 15 min of a breach" in skipped.note
        )

"""Incident.sla_due_at, the queue's sort key, follows the incident's clocks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import Incident
from incidents.selectors import incident_list, incident_sort
from incidents.services import incident_comment, incident_create, incident_transition
from tests.factories import ServiceFactory, TeamFactory
from tests.sla.factories import CalendarFactory, PolicyFactory

pytestmark = pytest.mark.django_db


def test_sla_due_at_tracks_the_earliest_counting_clock(make_user):
    desk = make_user("service_desk")
    calendar = CalendarFactory(always_open=True, hours={}, timezone="UTC")
    PolicyFactory(priority="P3", response_minutes=30, resolution_minutes=240, calendar=calendar)
    service = ServiceFactory(support_team=TeamFactory(members=[desk]))
    start = timezone.now()
    incident = incident_create(actor=desk, title="Slow", service=service, at=start)
    assert Incident.objects.get(pk=incident.pk).sla_due_at == start + timedelta(minutes=30)
    incident_comment(incident=incident, actor=desk, body="On it", public=True)  # response met
    assert Incident.objects.get(pk=incident.pk).sla_due_at == start + timedelta(minutes=240)
    incident_transition(incident=incident, actor=desk, status="in_progress")
    incident_transition(
        incident=incident, actor=desk, status="resolved", resolution_code="fixed", note="Fixed."
    )
    assert Incident.objects.get(pk=incident.pk).sla_due_at is None  # nothing counts any more


def test_queue_sort_puts_the_most_urgent_first_and_unclocked_last(make_user):
    desk = make_user("service_desk")
    calendar = CalendarFactory(always_open=True, hours={}, timezone="UTC")
    PolicyFactory(priority="P1", response_minutes=15, resolution_minutes=60, calendar=calendar)
    PolicyFactory(priority="P3", response_minutes=120, resolution_minutes=600, calendar=calendar)
    service = ServiceFactory(support_team=TeamFactory(members=[desk]))
    relaxed = incident_create(actor=desk, title="Later", service=service)
    urgent = incident_create(actor=desk, title="Now", service=service, impact="high", urgency="high")
    unclocked = incident_create(actor=desk, title="No policy", service=service, impact="low", urgency="low")
    order = list(incident_sort(incident_list(), "sla").values_list("pk", flat=True))
    assert order == [urgent.pk, relaxed.pk, unclocked.pk]


def test_timers_carry_the_incidents_reporting_dimensions(make_user):
    from incidents.services import incident_escalate, incident_set_priority
    from sla.models import SLATimer

    desk, manager = make_user("service_desk"), make_user("manager")
    calendar = CalendarFactory(always_open=True, hours={}, timezone="UTC")
    PolicyFactory(priority="P3", response_minutes=30, resolution_minutes=240, calendar=calendar)
    PolicyFactory(priority="P1", response_minutes=15, resolution_minutes=60, calendar=calendar)
    tier2 = TeamFactory(tier=2)
    service = ServiceFactory(support_team=TeamFactory(members=[desk]))
    incident = incident_create(actor=desk, title="Slow", service=service)

    def dims():
        return set(
            SLATimer.objects.filter(incident=incident).values_list("priority", "team_id", "service_id")
        )

    assert dims() == {("P3", service.support_team_id, service.pk)}
    incident = incident_escalate(incident=incident, actor=manager, team=tier2, note="tier 2")
    incident = incident_set_priority(incident=incident, actor=manager, priority="P1", reason="Outage")
    assert dims() == {("P1", tier2.pk, service.pk)}

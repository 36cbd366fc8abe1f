"""Factories for SLA tests: calendars, policies, and bare incidents for the hooks."""

import itertools

import factory
from django.utils import timezone

from incidents.models import Incident
from sla.models import BusinessCalendar, SLAPolicy
from tests.factories import ServiceFactory

OFFICE_HOURS = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": [], "sun": []}


class CalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessCalendar

    name = factory.Sequence(lambda n: f"Calendar {n}")
    timezone = "Europe/London"
    hours = factory.LazyFunction(lambda: dict(OFFICE_HOURS))
    holidays = factory.LazyFunction(list)


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SLAPolicy

    name = factory.Sequence(lambda n: f"Policy {n}")
    priority = "P2"
    response_minutes = 60
    resolution_minutes = 240
    calendar = factory.SubFactory(CalendarFactory)
    warn_percent = 75
    pause_on = factory.LazyFunction(lambda: ["awaiting_customer", "awaiting_vendor"])


_keys = itertools.count(1)


def make_incident(*, service=None, priority="P2", created_at=None, **fields) -> Incident:
    """An incident row written directly (no incidents service), for calling the hooks."""
    service = service or ServiceFactory()
    return Incident.objects.create(
        key=f"INC-T{next(_keys)}",
        title=fields.pop("title", "Something broke"),
        service=service,
        team=fields.pop("team", service.support_team),
        priority=priority,
        created_at=created_at or timezone.now(),
        **fields,
    )

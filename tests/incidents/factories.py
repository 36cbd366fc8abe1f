"""Incident factories. Build through the services where history and SLA timers matter
(`logged_incident`); IncidentFactory writes the row directly for volume tests."""

import factory
from django.utils import timezone

from incidents.models import Incident, Status
from tests.factories import ServiceFactory


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    key = factory.Sequence(lambda n: f"INC-{50000 + n}")
    title = factory.Sequence(lambda n: f"Checkout fails for merchant {n}")
    description = "Customers see a 502 at the payment step."
    service = factory.SubFactory(ServiceFactory)
    team = factory.LazyAttribute(lambda o: o.service.support_team)
    tier = factory.LazyAttribute(lambda o: o.team.tier)
    impact = "medium"
    urgency = "medium"
    priority = "P3"
    status = Status.NEW
    created_at = factory.LazyFunction(timezone.now)

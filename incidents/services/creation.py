"""Logging an incident: the support group it starts with, and its creation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from org.models import Contact, Customer, Service, ServiceSupportModel, Team
from tracker.models import next_number
from webhooks.models import Event
from webhooks.payloads import incident_payload
from webhooks.services import webhook_emit

from .. import hooks, search
from ..models import KEY_PREFIX, Incident, IncidentType, Level, Status
from .base import Actor, Errors, is_team_member, record_event, record_noun, require_value
from .fields import priority_for


def first_team_for(*, service: Service, actor: Actor) -> Team:
    """The support group an incident starts with.

    Normally the service's support team (the service desk). A support engineer who logs an
    incident and belongs to a support group of a higher tier than that team (tier 2 logging
    what they found themselves) keeps it in their own group, so they can take it and work it
    at once; the lowest such tier wins, then the name. Swarm services always go to their
    swarm group.
    """
    team = service.support_team
    if actor is None or service.support_model == ServiceSupportModel.SWARM:
        return team
    if is_team_member(actor, team):
        return team
    own = (
        Team.objects.filter(members=actor, is_development=False, tier__gt=team.tier)
        .order_by("tier", "name", "pk")
        .first()
    )
    return own or team


@transaction.atomic
def incident_create(
    *,
    actor: Actor,
    title: str,
    service: Service | None,
    impact: str = Level.MEDIUM,
    urgency: str = Level.MEDIUM,
    description: str = "",
    type: str = IncidentType.INCIDENT,  # noqa: A002 - the contract's name
    customer: Customer | None = None,
    contact: str = "",
    requester: Contact | None = None,
    cc: Iterable[Contact] = (),
    follows: Incident | None = None,
    at: datetime | None = None,
) -> Incident:
    at = at or timezone.now()
    errors: Errors = {}
    copies = list(cc or ())
    if requester is not None:
        if customer is None:
            customer = requester.customer
        if requester.customer_id != customer.pk:
            errors["requester"] = [f"{requester.name} works for {requester.customer}, not {customer}."]
    if any(customer is None or c.customer_id != customer.pk for c in copies):
        errors["cc"] = ["Copies must be contacts of the incident's customer."]
    noun = record_noun(type)
    require_value(errors, "title", title, f"Give the {noun} a short title.")
    if service is None:
        errors["service"] = ["Choose the affected service."]
    if impact not in Level.values:
        errors["impact"] = [f"Impact must be one of: {', '.join(Level.values)}."]
    if urgency not in Level.values:
        errors["urgency"] = [f"Urgency must be one of: {', '.join(Level.values)}."]
    if type not in IncidentType.values:
        errors["type"] = [f"Type must be one of: {', '.join(IncidentType.values)}."]
    if title and len(title) > 200:
        errors["title"] = ["Keep the title under 200 characters."]
    if contact and len(contact) > 200:
        errors["contact"] = ["Keep the contact under 200 characters."]
    if errors or service is None:  # (a missing service is one of the errors)
        raise ValidationError(errors)

    prefix = KEY_PREFIX[IncidentType(type)]
    team = first_team_for(service=service, actor=actor)
    incident = Incident(
        type=type,
        title=title.strip(),
        description=description or "",
        service=service,
        customer=customer,
        reporter=actor,
        contact=contact or "",
        requester=requester,
        follows=follows,
        impact=impact,
        urgency=urgency,
        priority=priority_for(impact, urgency),
        status=Status.NEW,
        team=team,
        tier=team.tier,
        created_at=at,
    )
    # Higher apps' derived fields (the SLA due instant) go into the insert, not an UPDATE.
    hooks.fire_incident_inserting(incident=incident, at=at)
    # The key last: taking its number locks the counter's row until the transaction ends,
    # and concurrent creators wait for it.
    incident.key = f"{prefix}-{1000 + next_number(prefix)}"
    vector = search.new_incident_vector(
        key=incident.key, title=incident.title, description=incident.description, contact=incident.contact
    )
    if vector is not None:
        incident.search_vector = vector
    incident.save(force_insert=True)
    if copies:
        incident.cc.set([c for c in copies if c != requester])
    search.forget_loaded_vector(incident)
    record_event(incident, actor=actor, at=at, event="created", new=f"{incident.priority} · {team.name}")
    hooks.fire_incident_created(incident=incident, at=at)
    webhook_emit(Event.INCIDENT_CREATED, incident_payload(incident), at=at)
    return incident

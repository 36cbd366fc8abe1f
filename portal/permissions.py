"""Who sees what in the customer portal. Every portal page and endpoint asks these.

A portal account belongs to a contact (org.Contact.user). A contact sees the incidents they
requested or are copied on; a customer admin (Contact.is_customer_admin) sees every incident
of their customer. Anything else — another customer's incident, an incident of their
company they were not part of — does not exist for them (404, never 403), so ids leak
nothing. Only the requester rates a resolution.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from incidents.models import Incident, Status
from org.models import Contact
from org.permissions import portal_contact_of

Viewer = Any


def portal_contact(user: Viewer) -> Contact | None:
    contact: Contact | None = portal_contact_of(user)
    if contact is None or not user.is_active:
        return None
    return contact


def can_use_portal(user: Viewer) -> bool:
    return portal_contact(user) is not None


def visible_incidents(user: Viewer) -> QuerySet[Incident]:
    """The incidents `user` may open in the portal (none for staff and anonymous)."""
    contact = portal_contact(user)
    if contact is None:
        return Incident.objects.none()
    if contact.is_customer_admin:
        return Incident.objects.filter(customer_id=contact.customer_id)
    mine = Q(requester=contact) | Q(
        pk__in=Incident.cc.through.objects.filter(contact=contact).values("incident")
    )
    return Incident.objects.filter(mine, customer_id=contact.customer_id)


def can_comment(user: Viewer, incident: Incident) -> bool:
    """Reply while it is open or resolved (a reply reopens it, as by mail); a closed or
    cancelled one is final — the page offers a new request instead."""
    return can_use_portal(user) and incident.status not in (Status.CLOSED, Status.CANCELLED)


def can_rate(user: Viewer, incident: Incident) -> bool:
    """The requester, once the incident is resolved (or closed after that)."""
    contact = portal_contact(user)
    return (
        contact is not None
        and incident.requester_id == contact.pk
        and incident.resolved_at is not None
        and incident.status in (Status.RESOLVED, Status.CLOSED)
    )

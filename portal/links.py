"""Links the customer channel's mails carry into the portal (registered on mail.hooks)."""

from typing import Any

from django.conf import settings
from django.urls import reverse

from incidents.models import Incident

from .services import rating_url


def mail_links(incident: Incident, kind: str) -> dict[str, Any]:
    """A requester with a portal account gets the portal's page of the incident instead of
    the staff page; a resolution mail carries the rating link (signed: it works without
    signing in, for the one resolution it was sent for)."""
    extra: dict[str, Any] = {}
    requester = incident.requester
    base = settings.TANDEM_BASE_URL.rstrip("/")
    if requester is not None and requester.user_id and base:
        extra["url"] = base + reverse("portal:incident", kwargs={"key": incident.key})
    if kind == "resolution" and incident.resolved_at is not None:
        extra["rating_url"] = rating_url(incident)
    return extra

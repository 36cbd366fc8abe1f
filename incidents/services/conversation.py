"""The conversation and the time spent: replies, notes and customers' messages (with their
files), the mail delivery state of a reply, and time entries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from notifications.services import notify_reply
from org.models import Contact

from .. import hooks, search
from ..attachments import attachment_create
from ..models import Comment, CommentVia, Delivery, Incident, TimeEntry
from .base import Actor, incident_lock, record_event

MAX_MINUTES_PER_ENTRY = 24 * 60


@transaction.atomic
def incident_comment(
    *,
    incident: Incident,
    actor: Actor,
    body: str,
    public: bool = False,
    at: datetime | None = None,
    via: str = CommentVia.WEB,
    contact: Contact | None = None,
    attachments: Iterable[Any] = (),
) -> Comment:
    """A reply, a note, or (with `contact`) a customer's message; only staff replies answer
    the response SLA."""
    at = at or timezone.now()
    if not (body or "").strip():
        raise ValidationError({"body": ["Write something first."]})
    incident = incident_lock(incident)
    comment = Comment.objects.create(
        incident=incident,
        author=actor,
        body=body.strip(),
        public=bool(public),
        created_at=at,
        via=via,
        contact=contact,
    )
    search.vector_add_comment(comment)
    record_event(incident, actor=actor, at=at, event="replied" if public else "noted")
    for upload in attachments:
        attachment_create(
            incident=incident, upload=upload, actor=actor, contact=contact, comment=comment, at=at
        )
    hooks.fire_comment_added(comment=comment)
    if public and contact is not None:
        notify_reply(comment=comment)
    elif public:
        if incident.responded_at is None:
            Incident.objects.filter(pk=incident.pk).update(responded_at=at)
            incident.responded_at = at
        hooks.fire_public_reply(incident=incident, at=at)
        notify_reply(comment=comment)
    return comment


def comment_set_delivery(
    *, comment_id: int, state: str, error: str = "", expected: Iterable[str] | None = None
) -> bool:
    """The mail app reports how the mail of a public reply went (pending, sent, failed).
    With `expected`, only a comment still in one of those states changes (idempotent)."""
    if state not in Delivery.values:
        raise ValueError(f"unknown delivery state {state!r}")
    qs = Comment.objects.filter(pk=comment_id)
    if expected is not None:
        qs = qs.filter(delivery__in=expected)
    return bool(qs.update(delivery=state, delivery_error=(error or "")[:2000]))


@transaction.atomic
def incident_log_time(
    *, incident: Incident, actor: User, minutes: int | str, note: str = "", at: datetime | None = None
) -> TimeEntry:
    at = at or timezone.now()
    try:
        whole = int(minutes)
    except (TypeError, ValueError):
        raise ValidationError({"minutes": ["Enter whole minutes."]}) from None
    if whole <= 0 or whole > MAX_MINUTES_PER_ENTRY:
        raise ValidationError({"minutes": [f"Enter between 1 and {MAX_MINUTES_PER_ENTRY} minutes."]})
    if note and len(note) > 300:
        raise ValidationError({"note": ["Keep the note under 300 characters."]})
    incident = incident_lock(incident)
    entry = TimeEntry.objects.create(
        incident=incident, user=actor, minutes=whole, note=note or "", created_at=at
    )
    record_event(incident, actor=actor, at=at, event="time_logged", new=f"{whole} min", note=note or "")
    return entry

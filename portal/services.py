"""What a contact does in the portal: log an incident or request, reply, rate.

Each goes through the incidents services the staff side and the mail channel use, with the
contact as the requester or author: a portal request is logged like a mail from them
(requester = the contact, customer = theirs, no staff reporter), a portal reply is a
public comment by the contact — a reply to an incident on hold awaiting the customer takes
it back to in progress (its clock resumes), a reply to a resolved one reopens it, exactly
as `mail.inbound` does for a mail — and files are stored by `incidents.attachments` with
its limits.

Ratings (SPEC §15): one per resolution (`SatisfactionRating`, unique on the incident and
its `resolved_at`), from the portal or from the signed link in the resolution mail.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from incidents.attachments import attachment_create, safe_name, too_big_message
from incidents.models import Comment, CommentVia, HoldReason, Incident, IncidentType, Level, Status
from incidents.services import incident_comment, incident_create, incident_lock, incident_transition
from org.models import Contact, Service
from tracker.exceptions import DomainError

from .models import RatingVia, SatisfactionRating
from .permissions import can_comment, can_rate, portal_contact

RATING_SALT = "portal.rating"


def _contact_for(user: Any) -> Contact:
    contact = portal_contact(user)
    if contact is None:
        raise PermissionDenied("The portal is for customers' contacts.")
    return contact


def _check_uploads(uploads: Iterable[Any]) -> list[Any]:
    """Refuse an oversized file before anything is written (the attachment service checks
    again; this keeps the whole request one decision)."""
    files = list(uploads or ())
    for upload in files:
        if getattr(upload, "size", 0) > settings.ATTACHMENT_MAX_BYTES:
            raise ValidationError(
                {"attachments": [f"{safe_name(upload.name)}: {too_big_message(upload.size)}"]}
            )
    return files


@transaction.atomic
def portal_incident_create(
    *,
    user: Any,
    title: str,
    description: str,
    service: Service | None,
    type: str = IncidentType.INCIDENT,  # noqa: A002 - the contract's name
    attachments: Iterable[Any] = (),
    at: datetime | None = None,
) -> Incident:
    """A contact logs an incident or a service request for their customer."""
    contact = _contact_for(user)
    at = at or timezone.now()
    files = _check_uploads(attachments)
    errors: dict[str, list[str]] = {}
    if not (description or "").strip():
        errors["description"] = ["Tell us what happened (or what you need)."]
    if type not in IncidentType.values:
        errors["type"] = ["Choose a problem (incident) or a request."]
    try:
        incident = incident_create(
            actor=None,
            title=title or "",
            description=(description or "").strip(),
            service=service,
            type=type if type in IncidentType.values else IncidentType.INCIDENT,
            impact=Level.MEDIUM,
            urgency=Level.MEDIUM,
            customer=contact.customer,
            requester=contact,
            contact=f"{contact.name} <{contact.email}>"[:200],
            at=at,
        )
    except ValidationError as exc:
        raise ValidationError({**exc.message_dict, **errors}) from None
    if errors:
        raise ValidationError(errors)
    for upload in files:
        attachment_create(incident=incident, upload=upload, contact=contact, at=at)
    return incident


@transaction.atomic
def portal_comment(
    *,
    user: Any,
    incident: Incident,
    body: str,
    attachments: Iterable[Any] = (),
    via: str = CommentVia.WEB,
    at: datetime | None = None,
) -> Comment:
    """A contact's reply: a public comment by them; the same SLA effects as a mail reply."""
    contact = _contact_for(user)
    at = at or timezone.now()
    files = _check_uploads(attachments)
    incident = incident_lock(incident)
    if not can_comment(user, incident):
        raise DomainError(
            f"{incident.key} is {incident.get_status_display().lower()}; open a new request instead.",
            code="incident_final",
        )
    comment = incident_comment(
        incident=incident,
        actor=None,
        body=body,
        public=True,
        at=at,
        via=via,
        contact=contact,
        attachments=files,
    )
    incident.refresh_from_db()
    if incident.status == Status.RESOLVED or (
        incident.status == Status.ON_HOLD and incident.hold_reason == HoldReason.AWAITING_CUSTOMER
    ):
        what = "reopened it" if incident.status == Status.RESOLVED else "answered"
        incident_transition(
            incident=incident,
            actor=None,
            status=Status.IN_PROGRESS,
            note=f"The customer {what} in the portal ({contact.email}).",
            at=at,
        )
    return comment


# ------------------------------------------------------------------ satisfaction
def rating_token(incident: Incident) -> str:
    """The signed, expiring token of the rating link for the incident's current resolution."""
    if incident.resolved_at is None:
        raise ValueError("only a resolved incident is rated")
    return signing.dumps({"i": incident.pk, "r": incident.resolved_at.isoformat()}, salt=RATING_SALT)


def rating_url(incident: Incident) -> str:
    path = reverse("portal:rate", kwargs={"token": rating_token(incident)})
    base: str = settings.TANDEM_BASE_URL
    return base.rstrip("/") + path


class RatingRefused(DomainError):
    code = "rating_refused"


def incident_for_rating_token(token: str) -> Incident:
    """The incident a rating link names, while that resolution stands; else RatingRefused."""
    try:
        data = signing.loads(token or "", salt=RATING_SALT, max_age=settings.PORTAL_RATING_MAX_AGE)
        incident = Incident.objects.select_related("requester", "customer", "service").get(pk=int(data["i"]))
        resolved_at = datetime.fromisoformat(data["r"])
    except signing.SignatureExpired:
        raise RatingRefused("This rating link has expired.") from None
    except (signing.BadSignature, KeyError, TypeError, ValueError, Incident.DoesNotExist):
        raise RatingRefused("This rating link is not valid.") from None
    if incident.resolved_at != resolved_at or incident.status not in (Status.RESOLVED, Status.CLOSED):
        raise RatingRefused(f"{incident.key} was reopened since; you can rate it when it is resolved again.")
    return incident


def current_rating(incident: Incident) -> SatisfactionRating | None:
    if incident.resolved_at is None:
        return None
    return SatisfactionRating.objects.filter(incident=incident, resolved_at=incident.resolved_at).first()


@transaction.atomic
def rating_create(
    *,
    incident: Incident,
    score: Any,
    comment: str = "",
    user: Any = None,
    token: str = "",
    via: str = RatingVia.PORTAL,
    at: datetime | None = None,
) -> SatisfactionRating:
    """Rate the incident's current resolution, once: by its requester in the portal (`user`)
    or by whoever holds the resolution mail's link (`token`)."""
    at = at or timezone.now()
    if token:
        incident = incident_for_rating_token(token)
    elif not can_rate(user, incident):
        raise RatingRefused(f"{incident.key} can be rated by its requester once it is resolved.")
    errors: dict[str, list[str]] = {}
    try:
        value = int(score)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5 or str(score).strip() not in {str(n) for n in range(1, 6)}:
        errors["score"] = ["Choose from 1 (poor) to 5 (excellent)."]
    if comment and len(comment) > 4000:
        errors["comment"] = ["Keep the comment under 4,000 characters."]
    if errors:
        raise ValidationError(errors)
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    if locked.resolved_at is None or locked.resolved_at != incident.resolved_at:
        raise RatingRefused(f"{locked.key} was reopened since; you can rate it when it is resolved again.")
    if SatisfactionRating.objects.filter(incident=locked, resolved_at=locked.resolved_at).exists():
        raise RatingRefused(f"This resolution of {locked.key} is already rated. Thank you!")
    try:
        with transaction.atomic():
            return SatisfactionRating.objects.create(
                incident=locked,
                resolved_at=locked.resolved_at,
                contact=locked.requester,
                score=value,
                comment=(comment or "").strip(),
                via=via,
                team_id=locked.team_id,
                service_id=locked.service_id,
                customer_id=locked.customer_id,
                created_at=at,
            )
    except IntegrityError:  # a concurrent rating of the same resolution
        raise RatingRefused(f"This resolution of {locked.key} is already rated. Thank you!") from None

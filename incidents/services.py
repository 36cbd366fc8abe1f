"""Every write to an incident goes through here: browser, API, admin, demo and tasks alike.

Each service is one transaction: it locks the incident, checks its guard on the locked row,
writes the change and its history (incidents.history), and tells the SLA engine what changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Model
from django.utils import timezone

from accounts.models import User
from notifications.services import notify_assigned, notify_handoff, notify_reply
from org.models import Contact, Customer, Service, ServiceSupportModel, Team
from tracker.exceptions import DomainError, StaleObject, TransitionNotAllowed
from tracker.models import next_number
from tracker.tasks import enqueue_on_commit
from webhooks.models import Event
from webhooks.payloads import incident_payload
from webhooks.services import webhook_emit

from . import hooks
from .attachments import attachment_create
from .history import history_record
from .models import (
    KEY_PREFIX,
    OPEN_STATUSES,
    Comment,
    CommentVia,
    Delivery,
    HoldReason,
    Incident,
    IncidentEvent,
    IncidentType,
    Level,
    Priority,
    ResolutionCode,
    Status,
    TimeEntry,
)

# ITIL impact × urgency -> priority (P1 highest).
PRIORITY_MATRIX = {
    (Level.HIGH, Level.HIGH): Priority.P1,
    (Level.HIGH, Level.MEDIUM): Priority.P2,
    (Level.HIGH, Level.LOW): Priority.P3,
    (Level.MEDIUM, Level.HIGH): Priority.P2,
    (Level.MEDIUM, Level.MEDIUM): Priority.P3,
    (Level.MEDIUM, Level.LOW): Priority.P4,
    (Level.LOW, Level.HIGH): Priority.P3,
    (Level.LOW, Level.MEDIUM): Priority.P4,
    (Level.LOW, Level.LOW): Priority.P5,
}

# Who acts: a user, or None for Tandem itself (the SLA engine, a scheduled close, mail).
Actor = User | None
# What each field error says, as ValidationError takes it.
Errors = dict[str, list[str]]

# The one lifecycle. Reopen is resolved -> in_progress; cancel only before work is done.
ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.NEW: (Status.IN_PROGRESS, Status.ON_HOLD, Status.RESOLVED, Status.CANCELLED),
    Status.IN_PROGRESS: (Status.ON_HOLD, Status.RESOLVED, Status.CANCELLED),
    # on hold -> on hold changes what the incident waits on (the reason must differ).
    Status.ON_HOLD: (Status.IN_PROGRESS, Status.ON_HOLD, Status.RESOLVED),
    Status.RESOLVED: (Status.IN_PROGRESS, Status.CLOSED),
    Status.CLOSED: (),
    Status.CANCELLED: (),
}

# Fields whose change the SLA engine hears about.
SLA_FIELDS = {"status", "hold_reason", "priority", "service", "customer", "type", "team", "tier"}
# Fields a worker may edit directly.
EDITABLE_FIELDS = ("title", "description", "contact", "impact", "urgency", "service", "customer", "type")

MAX_MINUTES_PER_ENTRY = 24 * 60


def priority_for(impact: str, urgency: str) -> str:
    return PRIORITY_MATRIX[(Level(impact), Level(urgency))]


def allowed_next_statuses(status: str) -> tuple[str, ...]:
    return ALLOWED_TRANSITIONS.get(status, ())


# ---------------------------------------------------------------- internals
def incident_lock(incident: Incident, expected_version: int | None = None) -> Incident:
    """Lock an incident row for this transaction and read it fresh (with a version check)."""
    # Lock the row alone, then read it with its relations: a FOR UPDATE over joins re-checks
    # a concurrently changed row against the *old* joined rows (PostgreSQL's EvalPlanQual),
    # so an incident whose team or assignee just changed would vanish from the result.
    Incident.objects.select_for_update().filter(pk=incident.pk).values_list("pk", flat=True).get()
    locked = Incident.objects.select_related("service", "team", "assignee", "customer").get(pk=incident.pk)
    if expected_version is not None and int(expected_version) != locked.version:
        raise StaleObject(
            f"{locked.key} was changed by someone else since you loaded it "
            f"(version {expected_version}, now {locked.version}). Reload and try again."
        )
    return locked


def _event(
    incident: Incident,
    *,
    actor: Actor,
    at: datetime,
    event: str,
    field: str = "",
    old: object = "",
    new: object = "",
    note: str = "",
) -> IncidentEvent:
    return history_record(
        incident=incident, actor=actor, at=at, event=event, field=field, old=old, new=new, note=note
    )


def _apply(
    incident: Incident,
    *,
    actor: Actor,
    at: datetime,
    values: dict[str, Any],
    event: str = "field_changed",
    note: str = "",
) -> dict[str, tuple[Any, Any]]:
    """Set fields, write one history row per changed field, bump the version.

    Returns {field: (old, new)} of what actually changed.
    """
    changes: dict[str, tuple[Any, Any]] = {}
    for field, new in values.items():
        old = getattr(incident, field)
        if old == new:
            continue
        setattr(incident, field, new)
        # The note belongs to the action, so it is kept once, on its first change.
        _event(
            incident,
            actor=actor,
            at=at,
            event=event,
            field=field,
            old=old,
            new=new,
            note="" if changes else note,
        )
        changes[field] = (old, new)
    if changes:
        incident.version += 1
        incident.save()
        webhook_emit(
            Event.INCIDENT_UPDATED, {**incident_payload(incident), "changed": sorted(changes)}, at=at
        )
        sla_changes = {
            f: ((o.pk if hasattr(o, "pk") else o), (n.pk if hasattr(n, "pk") else n))
            for f, (o, n) in changes.items()
            if f in SLA_FIELDS
        }
        if sla_changes:
            hooks.fire_incident_changed(incident=incident, changes=sla_changes, at=at, actor=actor)
    return changes


def _require(errors: Errors, field: str, value: object, message: str) -> None:
    if value in (None, "") or (isinstance(value, str) and not value.strip()):
        errors[field] = [message]


def _is_team_member(user: User | None, team: Team | None) -> bool:
    return user is not None and team is not None and team.members.filter(pk=user.pk).exists()


def record_noun(incident_type: str) -> str:
    """What the record is called in messages: "incident" or "service request"."""
    return "service request" if incident_type == IncidentType.SERVICE_REQUEST else "incident"


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
    if _is_team_member(actor, team):
        return team
    own = (
        Team.objects.filter(members=actor, is_development=False, tier__gt=team.tier)
        .order_by("tier", "name", "pk")
        .first()
    )
    return own or team


# ---------------------------------------------------------------- create
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
    _require(errors, "title", title, f"Give the {noun} a short title.")
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
    incident = Incident.objects.create(
        key=f"{prefix}-{1000 + next_number(prefix)}",
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
    if copies:
        incident.cc.set([c for c in copies if c != requester])
    _event(incident, actor=actor, at=at, event="created", new=f"{incident.priority} · {team.name}")
    hooks.fire_incident_created(incident=incident, at=at)
    webhook_emit(Event.INCIDENT_CREATED, incident_payload(incident), at=at)
    return incident


# ---------------------------------------------------------------- lifecycle
@transaction.atomic
def incident_transition(
    *,
    incident: Incident,
    actor: Actor,
    status: str,
    reason: str = "",
    resolution_code: str = "",
    note: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Incident:
    """Move an incident along ALLOWED_TRANSITIONS.

    on_hold needs a hold reason (on hold -> on hold changes it), resolved a resolution code
    and a note, cancelled a reason; reopening (resolved -> in_progress) clears the resolution.
    """
    at = at or timezone.now()
    if status not in Status.values:
        raise ValidationError(
            {"status": [f"Unknown status “{status}”. Use one of: {', '.join(Status.values)}."]}
        )
    incident = incident_lock(incident, expected_version)
    noun = record_noun(incident.type)
    current = incident.status
    allowed = allowed_next_statuses(current)
    if status not in allowed:
        nexts = ", ".join(allowed) if allowed else "none (it is final)"
        raise TransitionNotAllowed(
            f"{incident.key} cannot go from {current} to {status}. Allowed next states: {nexts}."
        )

    values: dict[str, Any] = {"status": status}
    event_note = (note or "").strip()
    if status == Status.ON_HOLD:
        if reason not in HoldReason.values:
            raise ValidationError(
                {"reason": [f"Say what the {noun} waits on: {', '.join(HoldReason.values)}."]}
            )
        if current == Status.ON_HOLD and reason == incident.hold_reason:
            raise ValidationError(
                {"reason": [f"{incident.key} already waits on that; choose what it waits on now."]}
            )
        values["hold_reason"] = reason
    else:
        values["hold_reason"] = ""
    if status == Status.RESOLVED:
        errors: Errors = {}
        if resolution_code not in ResolutionCode.values:
            errors["resolution_code"] = [f"Choose a resolution code: {', '.join(ResolutionCode.values)}."]
        if not event_note:
            errors["note"] = ["Say what was done, for the customer and whoever reads this next."]
        if errors:
            raise ValidationError(errors)
        values.update(resolution_code=resolution_code, resolution_note=event_note, resolved_at=at)
    if status == Status.CANCELLED:
        if not (reason or "").strip():
            raise ValidationError({"reason": [f"Say why the {noun} is cancelled."]})
        values["cancel_reason"] = reason.strip()
        event_note = event_note or reason.strip()
    if status == Status.CLOSED:
        values["closed_at"] = at
    if current == Status.RESOLVED and status == Status.IN_PROGRESS:
        values.update(resolution_code="", resolution_note="", resolved_at=None)
    _apply(incident, actor=actor, at=at, values=values, note=event_note)
    return incident


@transaction.atomic
def incident_auto_close(*, incident_id: int, cutoff: datetime, at: datetime | None = None) -> bool:
    """Close one incident resolved before `cutoff`; a no-op when it changed meanwhile.

    The conditional UPDATE makes a second run (or a concurrent reopen) harmless.
    """
    at = at or timezone.now()
    closed = Incident.objects.filter(pk=incident_id, status=Status.RESOLVED, resolved_at__lte=cutoff).update(
        status=Status.CLOSED, closed_at=at, version=F("version") + 1, updated_at=at
    )
    if not closed:
        return False
    incident = Incident.objects.get(pk=incident_id)
    _event(
        incident,
        actor=None,
        at=at,
        event="field_changed",
        field="status",
        old=Status.RESOLVED,
        new=Status.CLOSED,
        note="Closed automatically after the resolution was not disputed.",
    )
    # The same event an interactive close sends (see _apply), so receivers see it closed.
    changed = ["closed_at", "status"]
    webhook_emit(Event.INCIDENT_UPDATED, {**incident_payload(incident), "changed": changed}, at=at)
    hooks.fire_incident_changed(
        incident=incident, changes={"status": (Status.RESOLVED, Status.CLOSED)}, at=at, actor=None
    )
    return True


# ---------------------------------------------------------------- assignment
@transaction.atomic
def incident_assign(
    *,
    incident: Incident,
    actor: Actor,
    assignee: User | None,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Incident:
    at = at or timezone.now()
    incident = incident_lock(incident, expected_version)
    if assignee is not None and not (
        _is_team_member(assignee, incident.team) or incident.participants.filter(pk=assignee.pk).exists()
    ):
        raise ValidationError(
            {
                "assignee": [
                    f"{assignee} is not a member of {incident.team} nor a participant of {incident.key}."
                ]
            }
        )
    if _apply(incident, actor=actor, at=at, values={"assignee": assignee}):
        notify_assigned(incident=incident, actor=actor)
    return incident


@transaction.atomic
def incident_take(
    *, incident: Incident, actor: User, expected_version: int | None = None, at: datetime | None = None
) -> Incident:
    """The caller takes the incident: it is assigned to them and work starts."""
    at = at or timezone.now()
    incident = incident_lock(incident, expected_version)
    if not incident.is_open:
        raise TransitionNotAllowed(f"{incident.key} is {incident.status}; only open incidents can be taken.")
    values: dict[str, Any] = {"assignee": actor}
    if incident.status == Status.NEW:
        values.update(status=Status.IN_PROGRESS)
    _apply(incident, actor=actor, at=at, values=values)
    return incident


# ---------------------------------------------------------------- conversation and time
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
    _event(incident, actor=actor, at=at, event="replied" if public else "noted")
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
    _event(incident, actor=actor, at=at, event="time_logged", new=f"{whole} min", note=note or "")
    return entry


# ---------------------------------------------------------------- fields and priority
@transaction.atomic
def incident_update(
    *,
    incident: Incident,
    actor: Actor,
    data: dict[str, Any],
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Incident:
    """Edit the descriptive fields. Impact or urgency recompute the priority unless a
    manager has overridden it."""
    at = at or timezone.now()
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({f: ["This field cannot be edited here."] for f in sorted(unknown)})
    errors: Errors = {}
    if "title" in data:
        _require(errors, "title", data["title"], "The title cannot be empty.")
    for field in ("impact", "urgency"):
        if field in data and data[field] not in Level.values:
            errors[field] = [f"Choose one of: {', '.join(Level.values)}."]
    if "type" in data and data["type"] not in IncidentType.values:
        errors["type"] = [f"Choose one of: {', '.join(IncidentType.values)}."]
    if "service" in data and data["service"] is None:
        errors["service"] = ["Choose the affected service."]
    if errors:
        raise ValidationError(errors)
    incident = incident_lock(incident, expected_version)
    values = dict(data)
    impact = values.get("impact", incident.impact)
    urgency = values.get("urgency", incident.urgency)
    if not incident.priority_override_reason:
        values["priority"] = priority_for(impact, urgency)
    _apply(incident, actor=actor, at=at, values=values)
    return incident


@transaction.atomic
def incident_set_priority(
    *,
    incident: Incident,
    actor: Actor,
    priority: str,
    reason: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Incident:
    """A manager overrides the matrix priority; the reason is kept on the incident and in history."""
    at = at or timezone.now()
    errors: Errors = {}
    if priority not in Priority.values:
        errors["priority"] = [f"Choose one of: {', '.join(Priority.values)}."]
    _require(errors, "reason", reason, "Say why the priority differs from the matrix.")
    if errors:
        raise ValidationError(errors)
    incident = incident_lock(incident, expected_version)
    if incident.priority == priority:
        raise ValidationError({"priority": [f"{incident.key} is already {priority}."]})
    _apply(
        incident,
        actor=actor,
        at=at,
        values={"priority": priority, "priority_override_reason": reason.strip()},
        note=reason.strip(),
    )
    return incident


# ---------------------------------------------------------------- escalation and swarming
@transaction.atomic
def incident_escalate(
    *,
    incident: Incident,
    actor: Actor,
    team: Team | None,
    note: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Incident:
    """Functional escalation: hand the incident to another team with a mandatory note.

    A higher tier is an escalation, a lower one a de-escalation, the same tier a transfer.
    Swarm incidents are never handed off. `actor` is None when the SLA engine escalates.
    """
    at = at or timezone.now()
    errors: Errors = {}
    noun = record_noun(incident.type)
    _require(errors, "note", note, f"Say why the {noun} is escalated; the next team reads this first.")
    if team is None:
        errors["team"] = [f"Choose the team to hand the {noun} to."]
    if errors or team is None:  # (a missing team is one of the errors)
        raise ValidationError(errors)
    incident = incident_lock(incident, expected_version)
    if not incident.is_open:
        raise TransitionNotAllowed(
            f"{incident.key} is {incident.status}; only open incidents can be escalated."
        )
    if incident.service.support_model == ServiceSupportModel.SWARM:
        raise DomainError(
            f"{incident.service} is supported by swarming: no hand-offs, ask people to join instead.",
            code="swarm_no_handoff",
        )
    if team.pk == incident.team_id:
        raise ValidationError({"team": [f"{incident.key} is already with {team}."]})
    old_tier = incident.tier
    kind = "escalated" if team.tier > old_tier else "de_escalated" if team.tier < old_tier else "transferred"
    old_team = incident.team
    values: dict[str, Any] = {"team": team, "tier": team.tier}
    if incident.assignee_id and not _is_team_member(incident.assignee, team):
        values["assignee"] = None
    _event(incident, actor=actor, at=at, event=kind, old=old_team, new=team, note=note.strip())
    _apply(incident, actor=actor, at=at, values=values)
    notify_handoff(incident=incident, actor=actor, note=note.strip())
    return incident


@transaction.atomic
def incident_set_tier(
    *, incident: Incident, actor: Actor, tier: int, note: str = "", at: datetime | None = None
) -> Incident:
    """Record the tier where the work is, without handing the case to another group.

    Escalation to development uses it (tier 3 while development works the card, back to the
    team's tier when the card comes back): the team and the assignee, who own the case, stay.
    """
    at = at or timezone.now()
    if tier not in (1, 2, 3):
        raise ValidationError({"tier": ["The tier is 1, 2 or 3."]})
    incident = incident_lock(incident)
    _apply(incident, actor=actor, at=at, values={"tier": tier}, note=note)
    return incident


@transaction.atomic
def incident_declare_major(
    *, incident: Incident, actor: Actor, note: str = "", at: datetime | None = None
) -> Incident:
    """Hierarchical escalation: flag a major incident and notify the managers.

    Idempotent: declaring an incident that is already major changes nothing.
    """
    at = at or timezone.now()
    incident = incident_lock(incident)
    if incident.is_major:
        return incident
    if not incident.is_open:
        raise TransitionNotAllowed(
            f"{incident.key} is {incident.status}; only open incidents can be declared major."
        )
    incident.major_declared_at = at
    _apply(incident, actor=actor, at=at, values={"is_major": True}, event="declared_major", note=note or "")
    from .tasks import incidents_notify_major

    enqueue_on_commit(incidents_notify_major, incident.pk)  # type: ignore[no-untyped-call]  # tracker.tasks is untyped
    return incident


@transaction.atomic
def incident_swarm_join(*, incident: Incident, actor: User, at: datetime | None = None) -> Incident:
    at = at or timezone.now()
    incident = incident_lock(incident)
    if incident.service.support_model != ServiceSupportModel.SWARM:
        raise DomainError(
            f"{incident.service} uses tiered support; escalate instead of joining.", code="not_a_swarm"
        )
    if not incident.is_open:
        raise TransitionNotAllowed(f"{incident.key} is {incident.status}; only open incidents can be joined.")
    if incident.participants.filter(pk=actor.pk).exists():
        return incident
    incident.participants.add(actor)
    _event(incident, actor=actor, at=at, event="joined_swarm", new=actor)
    return incident


@transaction.atomic
def incident_swarm_leave(*, incident: Incident, actor: User, at: datetime | None = None) -> Incident:
    at = at or timezone.now()
    incident = incident_lock(incident)
    if not incident.participants.filter(pk=actor.pk).exists():
        return incident
    incident.participants.remove(actor)
    _event(incident, actor=actor, at=at, event="left_swarm", old=actor)
    return incident


# ---------------------------------------------------------------- links
@transaction.atomic
def incident_merge_duplicate(
    *, incident: Incident, actor: Actor, parent: Incident | None, note: str = "", at: datetime | None = None
) -> Incident:
    """Merge `incident` into `parent`: it is resolved as a duplicate and points at the parent."""
    at = at or timezone.now()
    if parent is None:
        raise ValidationError({"parent": ["Choose the incident this one duplicates."]})
    if parent.pk == incident.pk:
        raise ValidationError({"parent": ["An incident cannot duplicate itself."]})
    # Lock both in primary-key order so two opposite merges cannot deadlock.
    locked = {
        i.pk: i
        for i in Incident.objects.select_for_update(of=("self",))
        .select_related("service", "team")
        .filter(pk__in=[incident.pk, parent.pk])
        .order_by("pk")
    }
    incident, parent = locked[incident.pk], locked[parent.pk]
    if parent.parent_id:
        raise ValidationError({"parent": [f"{parent.key} is itself a duplicate of another incident."]})
    if parent.status == Status.CANCELLED:
        raise ValidationError({"parent": [f"{parent.key} is cancelled."]})
    if Status.RESOLVED not in allowed_next_statuses(incident.status):
        raise TransitionNotAllowed(
            f"{incident.key} is {incident.status}; only open incidents can be merged into another."
        )
    text = (note or "").strip() or f"Duplicate of {parent.key}."
    _apply(
        incident,
        actor=actor,
        at=at,
        values={
            "parent": parent,
            "status": Status.RESOLVED,
            "hold_reason": "",
            "resolution_code": ResolutionCode.DUPLICATE,
            "resolution_note": text,
            "resolved_at": at,
        },
        note=text,
    )
    _event(parent, actor=actor, at=at, event="duplicate_merged", new=incident.key, note=text)
    return incident


@transaction.atomic
def incident_link_cause(
    *,
    incident: Incident,
    actor: Actor,
    card: Model | None = None,
    release: Model | None = None,
    at: datetime | None = None,
) -> Incident:
    """Record the card or release that caused the incident: at least one of them. What is
    not given is cleared, so the cause is exactly what was linked last."""
    at = at or timezone.now()
    if card is None and release is None:
        raise ValidationError({"card": ["Give the card that caused it, or choose a release."]})
    incident = incident_lock(incident)
    _apply(
        incident,
        actor=actor,
        at=at,
        values={"caused_by_card": card, "caused_by_release": release},
        event="cause_linked",
    )
    return incident


# ---------------------------------------------------------------- used by the SLA engine
def next_tier_team(incident: Incident) -> Team | None:
    """The team one tier up from the incident's team (for an automatic escalation)."""
    if incident.tier >= 3:
        return None
    if incident.tier == 2 and incident.service.team_id:
        return incident.service.team
    return (
        Team.objects.filter(tier=incident.tier + 1, is_development=False).order_by("name").first()
        or Team.objects.filter(tier__gt=incident.tier).order_by("tier", "name").first()
    )


__all__ = [
    "ALLOWED_TRANSITIONS",
    "OPEN_STATUSES",
    "PRIORITY_MATRIX",
    "incident_assign",
    "incident_auto_close",
    "incident_comment",
    "incident_create",
    "incident_declare_major",
    "incident_escalate",
    "incident_link_cause",
    "incident_log_time",
    "incident_merge_duplicate",
    "incident_set_priority",
    "incident_set_tier",
    "incident_swarm_join",
    "incident_swarm_leave",
    "incident_take",
    "incident_transition",
    "incident_update",
    "first_team_for",
    "next_tier_team",
    "priority_for",
]

"""What a fired event does once handled: the notifications, and for a breach the policy's
escalation and major-incident declaration, acting only while the breach is fresh and the
incident is still where the breach found it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from incidents import services as incident_services
from incidents.history import history_record
from incidents.models import HoldReason, Incident, IncidentEvent
from notifications.services import notify_sla_event, notify_unassigned
from org.models import ServiceSupportModel, Team
from tracker.exceptions import DomainError

from ..models import SLAEvent, SLAEventKind, SLAPolicy, SLATimer

logger = logging.getLogger(__name__)


def sla_event_handle(*, event_id: int, now: datetime | None = None) -> bool:
    """Run a fired event's actions once: the notifications, and for a breach the policy's
    escalation and major-incident declaration (see `_breach_actions` for when those act).
    False when already handled (or being handled by another worker)."""
    now = now or timezone.now()
    with transaction.atomic():
        event = (
            SLAEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("timer__policy", "timer__incident__assignee", "timer__incident__team__lead")
            .filter(pk=event_id, handled_at__isnull=True)
            .first()
        )
        if event is None:
            return False
        timer, policy = event.timer, event.timer.policy
        if event.kind == SLAEventKind.BREACH:
            if policy is None or policy.notify_on_breach:
                notify_sla_event(event=event, breach=True, managers=True)
            if policy is not None and (policy.escalate_on_breach or policy.declare_major_on_breach):
                _breach_actions(event, policy, now=now)
        elif timer.breached_at is None or timer.breached_at > now:
            notify_sla_event(event=event, breach=False, managers=False)
        event.handled_at = now
        event.save(update_fields=["handled_at"])
    return True


# History entries after which an incident is no longer where its breach found it.
MOVED_ON_EVENTS = {
    "escalated": "it was escalated",
    "de_escalated": "it was de-escalated",
    "transferred": "it was transferred",
    "escalated_to_development": "it was escalated to development",
    "development_done": "it came back from development",
    "development_deployed": "it came back from development",
    "development_cancelled": "it came back from development",
}


def breach_action_fresh_window() -> timedelta:
    return timedelta(minutes=float(getattr(settings, "SLA_BREACH_ACTION_FRESH_MINUTES", 15)))


def _utc(instant: datetime) -> str:
    return f"{instant.astimezone(UTC):%d %b %Y %H:%M} UTC"


def _late_by(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def _moved_on(event: SLAEvent, incident: Incident, timer: SLATimer) -> list[str]:
    """Why the incident is no longer in the state its breach found it (empty: it is)."""
    reasons: list[str] = []
    if not incident.is_open:
        reasons.append(f"it is {incident.get_status_display().lower()} now")
    elif not timer.is_active:
        reasons.append(f"its {timer.metric} clock has stopped since")
    if incident.is_open and incident.hold_reason == HoldReason.AWAITING_DEVELOPMENT:
        reasons.append("it is on hold awaiting development")
    if incident.team.is_development:
        reasons.append(f"it is with the development team {incident.team}")
    since = (
        IncidentEvent.objects.filter(incident_id=incident.pk, at__gt=event.at, event__in=MOVED_ON_EVENTS)
        .order_by("at", "id")
        .values_list("event", "at")
    )
    seen: set[str] = set()
    for kind, at in since:
        text = f"{MOVED_ON_EVENTS[kind]} since the breach ({_utc(at)})"
        if MOVED_ON_EVENTS[kind] not in seen:
            seen.add(MOVED_ON_EVENTS[kind])
            reasons.append(text)
    return reasons


def _next_support_group(incident: Incident) -> Team | None:
    """The support group one tier up, never a development team and never past the support
    tiers; one the assignee belongs to first (so the case stays with them), then by name."""
    if incident.tier >= 3:
        return None
    groups: QuerySet[Team] = Team.objects.filter(tier=incident.tier + 1, is_development=False)
    if incident.assignee_id:
        members = Team.members.through.objects.filter(team_id=OuterRef("pk"), user_id=incident.assignee_id)
        groups = groups.annotate(has_assignee=Exists(members)).order_by("-has_assignee", "name")
    else:
        groups = groups.order_by("name")
    return groups.first()


def _breach_actions(event: SLAEvent, policy: SLAPolicy, *, now: datetime) -> None:
    """A breach acts on the incident as it is now, and only while the breach is fresh.

    Escalation and the major-incident declaration run only when the breach is handled
    within SLA_BREACH_ACTION_FRESH_MINUTES (default 15) of its instant and the incident
    is still where the breach found it: open with the clock counting, not with
    development, and not escalated, transferred or sent to development since the breach.
    Otherwise (a catch-up after downtime, a lost task re-queued late, a breach found by a
    recompute long after its instant) the action is skipped and the timeline says why;
    the notifications were sent all the same.

    Escalation goes to a support group of the next tier only (never a development team,
    never past tier 3). The assignee stays when they belong to that group (one they belong
    to is preferred); otherwise they are unassigned, told so, and the timeline says so.
    """
    incident = incident_services.incident_lock(event.timer.incident)
    timer = SLATimer.objects.get(pk=event.timer_id)
    metric = timer.metric
    breach = f"the {metric} SLA ({policy.name}) breached at {_utc(event.at)}"
    late = now - event.at
    window = breach_action_fresh_window()
    reasons = _moved_on(event, incident, timer)
    if late > window:
        reasons.insert(
            0,
            f"the breach is {_late_by(late)} old and breach actions act only within "
            f"{_late_by(window)} of a breach",
        )
    skipped: list[str] = []
    wanted = [
        name
        for name, on in (
            ("escalation", policy.escalate_on_breach),
            ("major-incident declaration", policy.declare_major_on_breach),
        )
        if on
    ]
    if reasons:
        skipped = wanted
    else:
        if policy.escalate_on_breach:
            why = _breach_escalate(incident, breach=breach)
            if why:
                skipped.append("escalation")
                reasons.append(why)
        if policy.declare_major_on_breach and not incident.is_major:
            try:
                with transaction.atomic():
                    incident_services.incident_declare_major(
                        incident=incident, actor=None, note=f"Declared major automatically because {breach}."
                    )
            except DomainError as exc:
                skipped.append("major-incident declaration")
                reasons.append(str(exc))
    if not skipped:
        return
    detected = f" detected late ({_late_by(late)} after)" if late > window else ""
    history_record(
        incident=incident,
        actor=None,
        at=now,
        event="sla_breach_action",
        field=metric,
        new="skipped",
        note=(
            f"{metric.capitalize()} SLA breach at {_utc(event.at)}{detected}; "
            f"automatic {' and '.join(skipped)} skipped because {'; '.join(reasons)}."
            + (" The assignee, group lead and managers were notified." if policy.notify_on_breach else "")
        ),
    )


def _breach_escalate(incident: Incident, *, breach: str) -> str:
    """Escalate one support tier up; returns why not ("" when it did)."""
    if incident.service.support_model == ServiceSupportModel.SWARM:
        return f"{incident.service} is supported by swarming (no hand-offs)"
    team = _next_support_group(incident)
    if team is None:
        if incident.tier >= 3:
            return f"it is at tier {incident.tier}, the last support tier"
        return f"there is no support group at tier {incident.tier + 1}"
    assignee = incident.assignee
    keeps = assignee is None or team.members.filter(pk=assignee.pk).exists()
    note = f"Escalated to {team} (tier {team.tier}) automatically because {breach}."
    if assignee is not None:
        note += (
            f" {assignee.display_name} stays assigned."
            if keeps
            else f" {assignee.display_name} is not in {team}, so is unassigned and was told."
        )
    try:
        with transaction.atomic():
            incident_services.incident_escalate(incident=incident, actor=None, team=team, note=note)
    except (DomainError, ValidationError) as exc:
        logger.info("SLA escalation of %s refused: %s", incident.key, exc)
        return "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    if not keeps:
        notify_unassigned(incident=incident, user=assignee, reason=note, inline_email=True)
    return ""

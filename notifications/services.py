"""Notifications: written with the action that causes them, e-mailed after it commits.

Other services call one `notify_*` function inside their transaction. It writes the
in-app rows there (so a rollback takes them away, savepoints included) and collects the
ids of rows to e-mail in one batch per transaction, handed to Celery by a single
on-commit callback. The e-mail task claims each row (`pending` → `sent`) before sending,
so a task delivered twice mails nobody twice.

Within one transaction, a more specific notification supersedes a generic one for the
same person and incident: "the fix is back" replaces "assigned to you" and "handed to your
team" written by the same back-sync.

Types: the records the `notify_*` functions describe (an incident, a comment, an SLA
event, an escalation, a change request) belong to apps above this one, which it may not
import, not even for type checking (the layer contract counts those imports too); they are
`Record` (Any) here, read by attribute only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from tracker.tasks import enqueue

from .models import EmailPreference, EmailState, Kind, Notification

logger = logging.getLogger(__name__)

# A record of an app above notifications (see the module's docstring).
Record = Any
# Someone to notify or leave out: a user, a user's id, or nobody.
Person = AbstractBaseUser | AnonymousUser | int | None

# kind -> the kinds it replaces (and the other way round), by their values
SUPERSEDES: dict[str, tuple[str, ...]] = {Kind.FIX_RETURNED: (Kind.ASSIGNED, Kind.ESCALATED)}
SUPERSEDED_BY: dict[str, tuple[str, ...]] = {
    weaker: tuple(k for k, ws in SUPERSEDES.items() if weaker in ws)
    for ws in SUPERSEDES.values()
    for weaker in ws
}

_local = threading.local()


class _EmailBatch:
    """The rows to e-mail once the current transaction commits (an on-commit callback)."""

    def __init__(self, inline: bool) -> None:
        self.ids: list[int] = []
        self.inline = inline
        self.owner = 0

    def __call__(self) -> None:
        if not self.ids:
            return
        if self.inline:
            notifications_send_email(self.ids)
        else:
            from .tasks import notifications_email  # cycle: notifications.tasks imports this module

            enqueue(notifications_email, self.ids)  # type: ignore[no-untyped-call]  # tracker.tasks is untyped


def _transaction_owner(connection: Any) -> object | None:
    """The atomic block that commits: the outermost one, or in tests the outermost one a
    test case did not open (as Django does for durable blocks), so a test sees each
    service's batch the way production does."""
    block: object
    for block in connection.atomic_blocks:
        if not getattr(block, "_from_testcase", False):
            return block
    return None


def _live_batch(inline: bool, create: bool) -> _EmailBatch | None:
    """This transaction's batch. A batch whose callback was dropped (its savepoint rolled
    back) or already ran, or that another transaction opened, is not reused."""
    connection = transaction.get_connection()
    owner = id(_transaction_owner(connection))
    key = "inline" if inline else "queued"
    batch: _EmailBatch | None = getattr(_local, key, None)
    if (
        batch is not None
        and batch.owner == owner
        and any(entry[1] is batch for entry in connection.run_on_commit)
    ):
        return batch
    if not create:
        return None
    batch = _EmailBatch(inline)
    batch.owner = owner
    setattr(_local, key, batch)
    transaction.on_commit(batch)
    return batch


def _pending_ids() -> list[int]:
    ids: list[int] = []
    for inline in (False, True):
        batch = _live_batch(inline, create=False)
        if batch is not None:
            ids.extend(batch.ids)
    return ids


def _base_url() -> str:
    """Links in e-mails are absolute when the deployment says where it lives."""
    base: str = getattr(settings, "TANDEM_BASE_URL", "")
    return base.rstrip("/")


def _user_id(user: Person) -> int | None:
    if user is None:
        return None
    if isinstance(user, int):
        return user
    pk: int | None = user.pk
    return pk


def notification_create(
    *,
    kind: str,
    recipients: Iterable[Person],
    title: str,
    body: str = "",
    url: str = "",
    incident: Record | int | None = None,
    exclude: Person = None,
    at: datetime | None = None,
    inline_email: bool = False,
) -> list[Notification]:
    """Notify `recipients` (users or ids; None and `exclude` skipped, duplicates once).

    `inline_email`: the caller already runs in a Celery task, so the e-mail is sent right
    after its commit in that worker instead of queueing yet another task.
    """
    ids = {_user_id(r) for r in recipients} - {None, _user_id(exclude)}
    if not ids:
        return []
    at = at or timezone.now()
    with transaction.atomic():
        pending = _pending_ids()
        incident_id = getattr(incident, "pk", incident)
        if pending and incident_id and kind in SUPERSEDES:
            Notification.objects.filter(
                pk__in=pending, incident_id=incident_id, recipient_id__in=ids, kind__in=SUPERSEDES[kind]
            ).delete()
        if pending and incident_id and kind in SUPERSEDED_BY:
            ids -= set(
                Notification.objects.filter(
                    pk__in=pending, incident_id=incident_id, kind__in=SUPERSEDED_BY[kind]
                ).values_list("recipient_id", flat=True)
            )
        people = (
            User.objects.filter(pk__in=ids, is_active=True)
            .annotate(
                opted_out=Exists(EmailPreference.objects.filter(user=OuterRef("pk"), kind=kind, email=False))
            )
            .values_list("pk", "email", "opted_out")
        )
        rows = []
        for pk, email, opted_out in people:
            state = EmailState.OFF if opted_out else EmailState.PENDING if email else EmailState.NO_ADDRESS
            rows.append(
                Notification(
                    recipient_id=pk,
                    kind=kind,
                    title=title[:250],
                    body=body,
                    url=url,
                    incident_id=incident_id,
                    created_at=at,
                    email_state=state,
                )
            )
        created = Notification.objects.bulk_create(rows)
        to_mail = [n.pk for n in created if n.email_state == EmailState.PENDING]
        batch = _live_batch(inline_email, create=True) if to_mail else None
        if batch is not None:
            batch.ids.extend(to_mail)
    return created


def notifications_send_email(ids: Iterable[int]) -> int:
    """Send the e-mail of each still-pending notification once; returns how many were sent."""
    sent = 0
    rows = Notification.objects.filter(pk__in=ids, email_state=EmailState.PENDING).select_related("recipient")
    for notification in rows:
        claimed = Notification.objects.filter(pk=notification.pk, email_state=EmailState.PENDING).update(
            email_state=EmailState.SENT, emailed_at=timezone.now()
        )
        if not claimed:
            continue
        link = f"\n\n{_base_url()}{notification.url}" if notification.url else ""
        sent += send_mail(
            subject=f"[Tandem] {notification.title}",
            message=f"{notification.body}{link}\n\nChoose what Tandem e-mails you: "
            f"{_base_url()}{reverse('notifications:preferences')}\n",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[notification.recipient.email],
        )
    return sent


def stale_pending_email_ids(*, older_than: timedelta = timedelta(minutes=2), limit: int = 500) -> list[int]:
    """E-mails still pending a while after their commit: their task was never queued (the
    broker was down) or was lost. The beat sweep sends them; claiming keeps it once-only."""
    return list(
        Notification.objects.filter(
            email_state=EmailState.PENDING, created_at__lt=timezone.now() - older_than
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def notification_mark_read(*, user: User, pk: int | None = None, at: datetime | None = None) -> int:
    """Mark one of the user's notifications read (or all of them when pk is None)."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if pk is not None:
        qs = qs.filter(pk=pk)
    return qs.update(read_at=at or timezone.now())


@transaction.atomic
def email_preferences_set(*, user: User, emailed_kinds: Iterable[str]) -> None:
    """Store which kinds the user wants by e-mail; the in-app copy always comes."""
    emailed_kinds = set(emailed_kinds)
    unknown = emailed_kinds - set(Kind.values)
    if unknown:
        raise ValidationError({"kinds": [f"Unknown kinds: {', '.join(sorted(unknown))}."]})
    for kind in Kind.values:
        EmailPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"email": kind in emailed_kinds}
        )


def emailed_kinds(user: User) -> set[str]:
    off = set(EmailPreference.objects.filter(user=user, email=False).values_list("kind", flat=True))
    return set(Kind.values) - off


# ------------------------------------------------------------------ the events
def _incident_url(incident: Record) -> str:
    return reverse("incidents:detail", args=[incident.key])


def notify_assigned(*, incident: Record, actor: Person = None) -> list[Notification]:
    if incident.assignee_id is None:
        return []
    return notification_create(
        kind=Kind.ASSIGNED,
        recipients=[incident.assignee_id],
        exclude=actor,
        title=f"{incident.key} is assigned to you",
        body=f"{incident.key} “{incident.title}” ({incident.priority}) was assigned to you"
        + (f" by {actor}." if actor else "."),
        url=_incident_url(incident),
        incident=incident,
    )


def notify_reply(*, comment: Record) -> list[Notification]:
    incident = comment.incident
    return notification_create(
        kind=Kind.REPLY,
        recipients=[incident.reporter_id, incident.assignee_id],
        exclude=comment.author_id,
        title=f"New reply on {incident.key}",
        body=f"{comment.author or 'Tandem'} replied on {incident.key} “{incident.title}”:\n\n{comment.body}",
        url=_incident_url(incident),
        incident=incident,
        at=comment.created_at,
    )


def notify_handoff(*, incident: Record, actor: Person = None, note: str = "") -> list[Notification]:
    """The incident was handed to `incident.team`: tell its members and lead."""
    team = incident.team
    members = list(team.members.values_list("pk", flat=True))
    return notification_create(
        kind=Kind.ESCALATED,
        recipients=[*members, team.lead_id],
        exclude=actor,
        title=f"{incident.key} was handed to {team}",
        body=f"{incident.key} “{incident.title}” ({incident.priority}) is now with {team}"
        + (f" (from {actor})" if actor else "")
        + (f":\n\n{note}" if note else "."),
        url=_incident_url(incident),
        incident=incident,
    )


def notify_sla_event(*, event: Record, breach: bool, managers: bool) -> list[Notification]:
    """A warning (assignee, or the team lead while unassigned) or a breach (assignee, team
    lead and managers). Runs inside the SLA action task, so its e-mail goes out inline.
    The SLA app says which it is: notifications sit below SLA and know none of its names."""
    incident = event.timer.incident
    lead_id = incident.team.lead_id if incident.team_id else None
    recipients = [incident.assignee_id]
    if managers or not incident.assignee_id:
        recipients.append(lead_id)
    if managers:
        recipients += list(
            User.objects.filter(groups__name="manager", is_active=True).values_list("pk", flat=True)
        )
    metric = event.timer.metric
    what = "breached" if breach else "is at risk"
    local_at = timezone.localtime(event.at, timezone.get_default_timezone())
    return notification_create(
        kind=Kind.SLA_BREACH if breach else Kind.SLA_WARNING,
        recipients=recipients,
        title=f"{incident.key} {metric} SLA {what}",
        body=f"{incident.key} “{incident.title}” ({incident.priority}, {incident.team}): "
        f"the {metric} SLA {what} at {local_at:%Y-%m-%d %H:%M %Z}.",
        url=_incident_url(incident),
        incident=incident,
        inline_email=True,
    )


def notify_unassigned(
    *, incident: Record, user: Person, reason: str, inline_email: bool = False
) -> list[Notification]:
    """`user` held the incident and no longer does (an automatic hand-off took it to a
    group they are not in): they hear it from Tandem rather than find it gone."""
    return notification_create(
        kind=Kind.UNASSIGNED,
        recipients=[user],
        title=f"{incident.key} is no longer assigned to you",
        body=f"{incident.key} “{incident.title}” ({incident.priority}) is now with {incident.team}. {reason}",
        url=_incident_url(incident),
        incident=incident,
        inline_email=inline_email,
    )


def notify_major_incident(*, incident: Record, inline_email: bool = False) -> list[Notification]:
    """Every active manager hears of a declared major incident (in the app, and by e-mail
    unless they opted out of this kind); the e-mail links to the incident absolutely."""
    managers = User.objects.filter(groups__name="manager", is_active=True).values_list("pk", flat=True)
    declared = incident.major_declared_at or timezone.now()
    local_at = timezone.localtime(declared, timezone.get_default_timezone())
    return notification_create(
        kind=Kind.MAJOR_INCIDENT,
        recipients=list(managers),
        title=f"Major incident {incident.key}: {incident.title}",
        body=(
            f"{incident.key} was declared a major incident at {local_at:%Y-%m-%d %H:%M %Z}.\n\n"
            f"Service: {incident.service}\nPriority: {incident.priority}\nTeam: {incident.team}\n"
            f"Status: {incident.get_status_display()}\n\n{incident.description}"
        ).strip(),
        url=_incident_url(incident),
        incident=incident,
        inline_email=inline_email,
    )


def notify_fix_returned(*, escalation: Record, incident: Record = None) -> list[Notification]:
    """Development finished, deployed or dropped the card: tell the support side, naming the
    group that has the incident now (`incident`: the back-sync's fresh row)."""
    incident, card = incident or escalation.incident, escalation.card
    team = incident.team
    person = incident.assignee_id or escalation.from_assignee_id or team.lead_id
    release = getattr(card, "release", None)
    news = {
        "done": f"{card.key} is done",
        "deployed": f"{card.key} was deployed" + (f" in release {release.name}" if release else ""),
        "cancelled": f"development cancelled {card.key}",
    }.get(escalation.outcome, f"{card.key} is {escalation.get_outcome_display().lower()}")
    where = f"{team.name} (Tier {team.tier})"
    return notification_create(
        kind=Kind.FIX_RETURNED,
        recipients=[person],
        title=f"{incident.key} is back with {where}: {news}",
        body=f"{incident.key} “{incident.title}” is back with {where}: {news}.",
        url=_incident_url(incident),
        incident=incident,
        at=escalation.returned_at,
    )


def notify_change_decided(*, change: Record, actor: Person = None) -> list[Notification]:
    reason = f"\n\nReason: {change.decision_reason}" if change.decision_reason else ""
    return notification_create(
        kind=Kind.CHANGE_DECIDED,
        recipients=[change.requester_id],
        exclude=actor,
        title=f"{change.key} is {change.get_status_display().lower()}",
        body=f"Your change request {change.key} “{change.title}” is now "
        f"{change.get_status_display().lower()}" + (f" (decided by {actor})." if actor else ".") + reason,
        url=reverse("changes:detail", args=[change.key]),
        at=change.decided_at,
    )

"""Moments in an incident's life that higher apps react to.

Incidents sit at the bottom of the case-handling apps: SLA clocks, boards, escalation and
the customer channel build on them, and incidents import none of them. Each list below
names a moment; a higher app appends its callable once, in its `AppConfig.ready()`. The
incidents services call them in order inside their own transaction, after the change is
written, so a failing subscriber rolls the whole action back and nothing is half done.

The SLA app subscribes to all three (it starts, stops, pauses and retargets the clocks).
See docs/architecture.md for the pattern.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from .models import Comment, Incident

    # field -> (old, new); related records as their primary keys
    Changes = dict[str, tuple[Any, Any]]


class IncidentCreated(Protocol):
    def __call__(self, *, incident: Incident, at: datetime) -> Any: ...


class IncidentChanged(Protocol):
    def __call__(
        self, *, incident: Incident, changes: Changes, at: datetime, actor: AbstractBaseUser | None = None
    ) -> Any: ...


class PublicReply(Protocol):
    def __call__(self, *, incident: Incident, at: datetime) -> Any: ...


class CommentAdded(Protocol):
    def __call__(self, *, comment: Comment) -> Any: ...


incident_created: list[IncidentCreated] = []
incident_changed: list[IncidentChanged] = []
public_reply: list[PublicReply] = []
# Every comment, once written (the customer channel mails public replies after commit).
comment_added: list[CommentAdded] = []


def fire_incident_created(*, incident: Incident, at: datetime) -> None:
    for hook in incident_created:
        hook(incident=incident, at=at)


def fire_incident_changed(
    *, incident: Incident, changes: Changes, at: datetime, actor: AbstractBaseUser | None = None
) -> None:
    for hook in incident_changed:
        hook(incident=incident, changes=changes, at=at, actor=actor)


def fire_comment_added(*, comment: Comment) -> None:
    for hook in comment_added:
        hook(comment=comment)


def fire_public_reply(*, incident: Incident, at: datetime) -> None:
    for hook in public_reply:
        hook(incident=incident, at=at)

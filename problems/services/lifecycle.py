"""Creating a problem, editing it, and moving it along ALLOWED_TRANSITIONS.

A problem with a workaround is a known error: giving a new or investigating problem a
workaround makes it one, clearing a known error's workaround takes it back to investigating.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from incidents.models import Incident
from org.models import Service
from tracker.exceptions import TransitionNotAllowed
from tracker.models import next_number

from ..models import Problem, ProblemStatus
from .common import Actor, Errors, allowed_next_statuses, bump, problem_lock, record
from .links import link_one

# What problem_update may change; the status moves only through problem_transition.
EDITABLE_FIELDS = ("title", "description", "service", "owner", "root_cause", "workaround")


def _clean_title(errors: Errors, title: object) -> str:
    text = str(title or "").strip()
    if not text:
        errors["title"] = ["Give the problem a short title: the cause, or the symptom while it is unknown."]
    elif len(text) > 200:
        errors["title"] = ["Keep the title under 200 characters."]
    return text


def _check_owner(errors: Errors, owner: object) -> None:
    if owner is not None and (not isinstance(owner, User) or not owner.is_active):
        errors["owner"] = ["Choose an active user as the owner."]


def _most_common_service(incidents: list[Incident]) -> Service | None:
    counts = Counter(i.service_id for i in incidents)
    if not counts:
        return None
    service_id = counts.most_common(1)[0][0]
    return next(i.service for i in incidents if i.service_id == service_id)


@transaction.atomic
def problem_create(
    *,
    actor: Actor,
    title: str,
    description: str = "",
    incidents: Iterable[Incident] = (),
    owner: User | None = None,
    service: Service | None = None,
    root_cause: str = "",
    workaround: str = "",
    at: datetime | None = None,
) -> Problem:
    """Open a problem, optionally for `incidents` (a major incident, or several selected in
    the queue). The service defaults to the incidents' most common one. With a workaround it
    starts as a known error. An incident that already belongs to another problem refuses the
    whole creation (a field error on `incidents`): nothing is half made."""
    now = at or timezone.now()
    errors: Errors = {}
    clean_title = _clean_title(errors, title)
    _check_owner(errors, owner)
    linked = list(dict.fromkeys(incidents))  # once each, in the order given
    if errors:
        raise ValidationError(errors)
    workaround = (workaround or "").strip()
    problem = Problem.objects.create(
        key=f"PRB-{next_number('PRB')}",
        title=clean_title,
        description=(description or "").strip(),
        service=service or _most_common_service(linked),
        owner=owner,
        root_cause=(root_cause or "").strip(),
        workaround=workaround,
        status=ProblemStatus.KNOWN_ERROR if workaround else ProblemStatus.NEW,
        known_error_at=now if workaround else None,
        created_by=actor,
        created_at=now,
    )
    record(problem, actor=actor, at=now, event="created", new=problem.get_status_display())
    refused: list[str] = []
    for incident in linked:
        outcome = link_one(problem, incident, actor=actor, at=now)
        if outcome.refused:
            refused.append(outcome.refused)
    if refused:
        raise ValidationError({"incidents": refused})
    return problem


def _display(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, User):
        return str(value.display_name)
    return str(value)


@transaction.atomic
def problem_update(
    *,
    problem: Problem,
    actor: Actor,
    expected_version: int | None = None,
    at: datetime | None = None,
    **values: Any,
) -> Problem:
    """Change the problem's descriptive fields (EDITABLE_FIELDS), one history row per changed
    field. A workaround on a new or investigating problem makes it a known error; clearing a
    known error's workaround takes it back to investigating. A closed problem is final."""
    now = at or timezone.now()
    unknown = sorted(set(values) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError({name: ["This field cannot be changed here."] for name in unknown})
    problem = problem_lock(problem, expected_version)
    if problem.status == ProblemStatus.CLOSED:
        raise TransitionNotAllowed(f"{problem.key} is closed; a closed problem is not edited.")
    errors: Errors = {}
    if "title" in values:
        values["title"] = _clean_title(errors, values["title"])
    if "owner" in values:
        _check_owner(errors, values["owner"])
    for text in ("description", "root_cause", "workaround"):
        if text in values:
            values[text] = str(values[text] or "").strip()
    if errors:
        raise ValidationError(errors)
    changed: list[str] = []
    for name, new in values.items():
        old = getattr(problem, name)
        if old == new:
            continue
        setattr(problem, name, new)
        changed.append(name)
        record(
            problem,
            actor=actor,
            at=now,
            event="field_changed",
            field=name,
            old=_display(old),
            new=_display(new),
        )
    if "workaround" in changed:
        _follow_workaround(problem, actor=actor, at=now, changed=changed)
    if changed:
        bump(problem, changed)
    return problem


def _follow_workaround(problem: Problem, *, actor: Actor, at: datetime, changed: list[str]) -> None:
    """Keep "a problem with a workaround is a known error" true after the workaround changed."""
    old = problem.status
    if problem.workaround and old in (ProblemStatus.NEW, ProblemStatus.INVESTIGATING):
        problem.status = ProblemStatus.KNOWN_ERROR
        problem.known_error_at = at
        changed += ["status", "known_error_at"]
    elif not problem.workaround and old == ProblemStatus.KNOWN_ERROR:
        problem.status = ProblemStatus.INVESTIGATING
        changed.append("status")
    if problem.status != old:
        record(
            problem, actor=actor, at=at, event="status_changed", field="status", old=old, new=problem.status
        )


@transaction.atomic
def problem_transition(
    *,
    problem: Problem,
    actor: Actor,
    status: str,
    note: str = "",
    root_cause: str | None = None,
    workaround: str | None = None,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Problem:
    """Move the problem along ALLOWED_TRANSITIONS.

    known_error needs a workaround (given here or already set), resolved a root cause;
    reopening a resolved problem makes it investigating again, or a known error when it has
    a workaround. Resolving the problem does not resolve its incidents: that is
    problem_resolve_incidents, offered right after (each incident its own transaction).
    """
    now = at or timezone.now()
    if status not in ProblemStatus.values:
        raise ValidationError(
            {"status": [f"Unknown status “{status}”. Use one of: {', '.join(ProblemStatus.values)}."]}
        )
    problem = problem_lock(problem, expected_version)
    current = problem.status
    allowed = allowed_next_statuses(current)
    if status not in allowed:
        nexts = ", ".join(allowed) if allowed else "none (it is final)"
        hint = ""
        if current == ProblemStatus.KNOWN_ERROR and status == ProblemStatus.INVESTIGATING:
            hint = " Clear the workaround if it no longer holds."
        raise TransitionNotAllowed(
            f"{problem.key} cannot go from {current} to {status}. Allowed next states: {nexts}.{hint}"
        )
    changed: list[str] = []
    for name, value in (("root_cause", root_cause), ("workaround", workaround)):
        if value is not None and value.strip() != getattr(problem, name):
            record(
                problem,
                actor=actor,
                at=now,
                event="field_changed",
                field=name,
                old=getattr(problem, name),
                new=value.strip(),
            )
            setattr(problem, name, value.strip())
            changed.append(name)
    errors: Errors = {}
    if status == ProblemStatus.KNOWN_ERROR and not problem.workaround:
        errors["workaround"] = [
            "A known error needs its workaround: how support helps the customer meanwhile."
        ]
    if status == ProblemStatus.RESOLVED and not problem.root_cause:
        errors["root_cause"] = ["Say what the root cause was before resolving the problem."]
    if errors:
        raise ValidationError(errors)
    target = status
    if current == ProblemStatus.RESOLVED and status == ProblemStatus.INVESTIGATING and problem.workaround:
        target = ProblemStatus.KNOWN_ERROR
    problem.status = target
    changed.append("status")
    if target == ProblemStatus.KNOWN_ERROR and problem.known_error_at is None:
        problem.known_error_at = now
        changed.append("known_error_at")
    if target == ProblemStatus.RESOLVED:
        problem.resolved_at = now
        changed.append("resolved_at")
    if current == ProblemStatus.RESOLVED and target != ProblemStatus.CLOSED:  # reopened
        problem.resolved_at = None
        changed.append("resolved_at")
    if target == ProblemStatus.CLOSED:
        problem.closed_at = now
        changed.append("closed_at")
    record(
        problem,
        actor=actor,
        at=now,
        event="status_changed",
        field="status",
        old=current,
        new=target,
        note=note,
    )
    bump(problem, changed)
    return problem


@transaction.atomic
def problem_note_article(*, problem: Problem, actor: Actor, article: str, at: datetime | None = None) -> None:
    """The known error's workaround was published as a knowledge article: the timeline says so."""
    record(problem, actor=actor, at=at or timezone.now(), event="article_created", new=article)

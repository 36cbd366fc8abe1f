"""Bulk actions on incidents selected in the queue: assign, transition, add an internal note,
link to a problem.

Every incident goes through the same service and the same permission predicate as the
incident page, the problem page and the API (incidents.services; problems.services'
link_incidents and problems.permissions.can_link), in a transaction of its own: a refusal (not permitted, not
allowed from its status, changed by someone else since the queue was read, bad input for
this one incident) is recorded with its reason and never undoes or stops the others. Input
that is wrong for every incident alike (no status, a hold without a reason) is refused as a
whole, before anything runs.

Queries: the selection is read once (incidents with their team, service, assignee and
participants; each team's members once per team, not per incident). The rest is the
service's own work on each incident — lock and re-read, history rows, the version bump, the
SLA engine's hook, the webhook row, the notification — so the count grows by a constant per
incident and by nothing else (tests/desk/test_bulk.py measures it: 3 queries for the
selection; per incident about 10 for an assignment, 9 for a note, 13 for a transition).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import User
from incidents import permissions as incident_perms
from incidents import services as incident_services
from incidents.models import HoldReason, Incident, ResolutionCode, Status
from org.models import Team
from problems import permissions as problem_perms
from problems.models import Problem
from problems.services import link_incidents
from tracker.exceptions import DomainError

MAX_INCIDENTS = 200


class BulkAction(enum.StrEnum):
    ASSIGN = "assign"
    TRANSITION = "transition"
    NOTE = "note"
    LINK_PROBLEM = "link_problem"


ACTION_LABELS: dict[str, str] = {
    BulkAction.ASSIGN: "Assign",
    BulkAction.TRANSITION: "Change status",
    BulkAction.NOTE: "Add an internal note",
    BulkAction.LINK_PROBLEM: "Link to a problem",
}


@dataclass(frozen=True)
class Done:
    id: int
    key: str
    detail: str


@dataclass(frozen=True)
class Refused:
    id: int
    key: str | None
    code: str
    detail: str


@dataclass
class BulkResult:
    action: str
    done: list[Done] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "done": [vars(d) for d in self.done],
            "refused": [vars(r) for r in self.refused],
        }


@dataclass(frozen=True)
class BulkInput:
    """What the action needs; which fields matter depends on the action."""

    assignee: User | None = None
    status: str = ""
    reason: str = ""
    resolution_code: str = ""
    note: str = ""
    problem: Problem | None = None


# One action on one incident, given the version the caller saw: what was done, in words.
Step = Callable[[Incident, User, BulkInput, int | None], str]


def _refusal_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(" ".join(str(m) for m in msgs) for msgs in exc.message_dict.values())
    return " ".join(str(m) for m in exc.messages)


def _add_note(incident: Incident, actor: User, data: BulkInput) -> str:
    if not data.note.strip():
        return ""
    if not incident_perms.can_comment(actor, incident):
        raise PermissionDenied(f"You cannot add notes to {incident.key}.")
    incident_services.incident_comment(incident=incident, actor=actor, body=data.note, public=False)
    return "; note added"


def _assign(incident: Incident, actor: User, data: BulkInput, version: int | None) -> str:
    before = incident.assignee_id
    done = incident_services.incident_assign(
        incident=incident, actor=actor, assignee=data.assignee, expected_version=version
    )
    who = data.assignee.display_name if data.assignee else "nobody"
    said = f"already assigned to {who}" if done.assignee_id == before else f"assigned to {who}"
    return said + _add_note(done, actor, data)


def _transition(incident: Incident, actor: User, data: BulkInput, version: int | None) -> str:
    before = incident.get_status_display()
    done = incident_services.incident_transition(
        incident=incident,
        actor=actor,
        status=data.status,
        reason=data.reason,
        resolution_code=data.resolution_code,
        note=data.note,
        expected_version=version,
    )
    # The note travels with the transition (its history entry; a resolution's note).
    return f"{before} → {done.get_status_display()}"


def _note(incident: Incident, actor: User, data: BulkInput, version: int | None) -> str:
    incident_services.incident_comment(incident=incident, actor=actor, body=data.note, public=False)
    return "internal note added"


def _link_problem(incident: Incident, actor: User, data: BulkInput, version: int | None) -> str:
    """problems.services.link_incidents for this one incident (the problem's lock, history,
    and its card when development works it); its per-incident refusal is this one's."""
    assert data.problem is not None  # check_bulk_input refused a missing problem
    result = link_incidents(problem=data.problem, incidents=[incident], actor=actor)
    if incident.key in result.refused:
        raise DomainError(result.refused[incident.key], code="link_refused")
    said = f"already linked to {data.problem.key}" if result.already else f"linked to {data.problem.key}"
    if result.escalated:
        said += " and put on its development card"
    if incident.key in result.not_escalated:
        said += f" ({result.not_escalated[incident.key]})"
    return said + _add_note(incident, actor, data)


@dataclass(frozen=True)
class ActionSpec:
    allowed: Callable[[User, Incident, BulkInput], bool]
    refused: str
    run: Step


ACTIONS: dict[str, ActionSpec] = {
    BulkAction.ASSIGN: ActionSpec(
        lambda user, incident, _: incident_perms.can_assign(user, incident),
        "only its team, its assignee or a manager can assign it",
        _assign,
    ),
    BulkAction.TRANSITION: ActionSpec(
        lambda user, incident, _: incident_perms.can_transition(user, incident),
        "only its team, its assignee or a manager can change its status",
        _transition,
    ),
    BulkAction.NOTE: ActionSpec(
        lambda user, incident, _: incident_perms.can_comment(user, incident),
        "your role cannot add notes",
        _note,
    ),
    BulkAction.LINK_PROBLEM: ActionSpec(
        # The problem page's predicate: who may group incidents under the problem.
        lambda user, incident, data: data.problem is not None and problem_perms.can_link(user, data.problem),
        "you cannot link incidents to problems",
        _link_problem,
    ),
}


def check_bulk_input(*, action: str, incidents: Sequence[int], data: BulkInput) -> None:
    """Refuse, as a whole, input that is wrong for every incident alike (400)."""
    errors: dict[str, list[str]] = {}
    if action not in ACTIONS:
        errors["action"] = [f"Unknown action “{action}”; use one of: {', '.join(ACTIONS)}."]
    if not incidents:
        errors["incidents"] = ["Select at least one incident."]
    elif len(incidents) > MAX_INCIDENTS:
        errors["incidents"] = [
            f"Select at most {MAX_INCIDENTS} incidents at a time ({len(incidents)} given)."
        ]
    if action == BulkAction.TRANSITION:
        if data.status not in Status.values:
            errors["status"] = [f"Choose the status to move to: {', '.join(Status.values)}."]
        elif data.status == Status.ON_HOLD and data.reason not in HoldReason.values:
            errors["reason"] = [f"Say what they wait on: {', '.join(HoldReason.values)}."]
        elif data.status == Status.RESOLVED:
            if data.resolution_code not in ResolutionCode.values:
                errors["resolution_code"] = [f"Choose a resolution code: {', '.join(ResolutionCode.values)}."]
            if not data.note.strip():
                errors["note"] = ["Say what was done, for the customers and whoever reads these next."]
        elif data.status == Status.CANCELLED and not data.reason.strip():
            errors["reason"] = ["Say why they are cancelled."]
    if action == BulkAction.NOTE and not data.note.strip():
        errors["note"] = ["Write the note to add."]
    if action == BulkAction.LINK_PROBLEM:
        if data.problem is None:
            errors["problem"] = ["Choose the problem to link them to."]
        elif not data.problem.is_open:
            state = data.problem.get_status_display().lower()
            errors["problem"] = [f"{data.problem.key} is {state}; it takes no more incidents."]
    if errors:
        raise ValidationError(errors)


def _selection(ids: Sequence[int]) -> dict[int, Incident]:
    """The selected incidents in one read, each team one object (so the permission
    predicates read a team's members once per team)."""
    found = (
        Incident.objects.filter(pk__in=ids)
        .select_related("team", "service", "assignee")
        .prefetch_related("participants")
    )
    teams: dict[int, Team] = {}
    out: dict[int, Incident] = {}
    for incident in found:
        incident.team = teams.setdefault(incident.team_id, incident.team)
        out[incident.pk] = incident
    return out


def incidents_bulk_act(
    *,
    actor: User,
    action: str,
    incidents: Sequence[int],
    data: BulkInput,
    versions: Mapping[int, int] | None = None,
) -> BulkResult:
    """Run `action` on each incident (see the module docstring). `versions` are the versions
    the caller saw (the queue's rows): an incident changed since is refused as stale."""
    ids = list(dict.fromkeys(int(i) for i in incidents))
    check_bulk_input(action=action, incidents=ids, data=data)
    spec = ACTIONS[action]
    versions = versions or {}
    result = BulkResult(action=action)
    selection = _selection(ids)
    for pk in ids:
        incident = selection.get(pk)
        if incident is None:
            result.refused.append(Refused(pk, None, "not_found", f"No incident with id {pk}."))
            continue
        if not spec.allowed(actor, incident, data):
            result.refused.append(Refused(pk, incident.key, "forbidden", f"{incident.key}: {spec.refused}."))
            continue
        try:
            with transaction.atomic():
                detail = spec.run(incident, actor, data, versions.get(pk))
        except DomainError as exc:
            result.refused.append(Refused(pk, incident.key, exc.code, exc.detail))
        except ValidationError as exc:
            result.refused.append(
                Refused(pk, incident.key, "invalid", f"{incident.key}: {_refusal_text(exc)}")
            )
        except PermissionDenied as exc:
            result.refused.append(Refused(pk, incident.key, "forbidden", str(exc)))
        else:
            result.done.append(Done(pk, incident.key, detail))
    return result

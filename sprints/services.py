"""Every write on sprints: creating, planning, starting and closing them, member availability,
team delivery settings, and sprint scope.

Sprint scope: every card that joins, leaves or is re-estimated in a sprint goes through
`card_sprint_set` / `card_estimate_set`, whatever the entry point (board, API, escalation,
triage, closing a sprint), so the scope-change log cannot be bypassed.

Lock order, everywhere: cards (in pk order), then sprints (in pk order).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Sum
from django.utils import timezone

from boards.models import Card, ColumnCategory
from boards.services.ranking import rank_above, rank_below, ranks_above, spread
from org.models import Team, TeamSupportModel
from org.services import team_update
from tracker.exceptions import DomainError, TransitionNotAllowed

from .models import (
    RotationSlot,
    ScopeChange,
    ScopeChangeKind,
    Sprint,
    SprintCarryOver,
    SprintCommitment,
    SprintMember,
    SprintState,
    WorkSource,
)

DEFAULT_HOURS_PER_DAY = Decimal("6")
DEFAULT_FOCUS_FACTOR = Decimal("0.80")
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")

ALLOWED_TRANSITIONS = {
    SprintState.PLANNING: {SprintState.ACTIVE},
    SprintState.ACTIVE: {SprintState.CLOSED},
    SprintState.CLOSED: set(),
}


def _dec(value) -> Decimal:
    return Decimal("0") if value is None else Decimal(str(value))


def _lock_sprints(*sprints) -> dict:
    ids = sorted({s.pk for s in sprints if s is not None})
    return {s.pk: s for s in Sprint.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def _guard_transition(sprint: Sprint, target: str):
    if target not in ALLOWED_TRANSITIONS[sprint.state]:
        verb = {SprintState.ACTIVE: "start", SprintState.CLOSED: "close"}[target]
        raise TransitionNotAllowed(
            f"{sprint.name} is {sprint.get_state_display().lower()}; it cannot {verb}."
        )


# ------------------------------------------------------------------ scope
def _scope_source(*, sprint_id, card_id, requested=None) -> str:
    """Which bucket a change to this card's membership belongs to: committed cards are
    planned work; cards added after the start carry the source they were added with
    (a card added by hand after the start is unplanned "other" work)."""
    if SprintCommitment.objects.filter(sprint_id=sprint_id, card_id=card_id).exists():
        return WorkSource.PLANNED
    if requested and requested != WorkSource.PLANNED:
        return requested
    last = (
        ScopeChange.objects.filter(sprint_id=sprint_id, card_id=card_id, change=ScopeChangeKind.ADDED)
        .order_by("-at", "-id")
        .values_list("source", flat=True)
        .first()
    )
    return last or WorkSource.OTHER


def _log(*, sprint, card, change, actor, reason, delta, source, at):
    return ScopeChange.objects.create(
        sprint=sprint,
        card=card,
        at=at,
        actor=actor,
        change=change,
        source=source,
        reason=(reason or "").strip(),
        estimate_delta=delta,
    )


@transaction.atomic
def card_sprint_set(*, card: Card, sprint, actor, reason="", source=WorkSource.PLANNED, at=None):
    """Move `card` into `sprint` (or out of any sprint when None).

    Planning sprints just change membership; an active sprint logs the card leaving or
    joining (with its estimate as the delta, and the source of the work); a closed sprint
    takes no new cards. The caller saves nothing else of the card afterwards.
    """
    now = at or timezone.now()
    if source not in WorkSource.values:
        raise ValidationError({"source": [f"Source must be one of {', '.join(WorkSource.values)}."]})
    locked = Card.objects.select_for_update().get(pk=card.pk)
    if sprint is not None and sprint.pk == locked.sprint_id:
        return card
    old = Sprint.objects.filter(pk=locked.sprint_id).first() if locked.sprint_id else None
    sprints = _lock_sprints(old, sprint)
    old = sprints.get(old.pk) if old else None
    new = sprints.get(sprint.pk) if sprint else None

    if new is not None:
        if new.state == SprintState.CLOSED:
            raise DomainError(f"{new.name} is closed; it takes no more cards.", code="sprint_closed")
        if new.board_id is not None and new.board_id != locked.board_id:
            raise ValidationError({"sprint": [f"{new.name} plans another board."]})
        if new.board_id is None:
            team_ids = set(locked.board.teams.values_list("pk", flat=True))
            if team_ids and new.team_id not in team_ids:
                raise ValidationError(
                    {"sprint": [f"{new.name} belongs to a team that does not use this board."]}
                )

    estimate = _dec(locked.estimate)
    if old is not None and old.state == SprintState.ACTIVE:
        _log(
            sprint=old,
            card=locked,
            change=ScopeChangeKind.REMOVED,
            actor=actor,
            reason=reason,
            delta=-estimate,
            source=_scope_source(sprint_id=old.pk, card_id=locked.pk),
            at=now,
        )
    if new is not None and new.state == SprintState.ACTIVE:
        _log(
            sprint=new,
            card=locked,
            change=ScopeChangeKind.ADDED,
            actor=actor,
            reason=reason,
            delta=estimate,
            source=_scope_source(sprint_id=new.pk, card_id=locked.pk, requested=source),
            at=now,
        )
    card.sprint = new
    card.save(update_fields=["sprint", "updated_at"])
    return card


@transaction.atomic
def card_estimate_set(*, card: Card, estimate, actor, reason="", at=None):
    """Change a card's estimate; logged as a re-estimate when its sprint is active."""
    now = at or timezone.now()
    if estimate is not None:
        try:
            estimate = Decimal(str(estimate))
        except (InvalidOperation, ValueError):
            raise ValidationError({"estimate": ["Enter a number."]}) from None
        if estimate < 0:
            raise ValidationError({"estimate": ["An estimate cannot be negative."]})
        if estimate > Decimal("99999"):
            raise ValidationError({"estimate": ["That estimate is too large."]})
    locked = Card.objects.select_for_update().get(pk=card.pk)
    delta = _dec(estimate) - _dec(locked.estimate)
    if locked.sprint_id:
        sprint = _lock_sprints(Sprint(pk=locked.sprint_id))[locked.sprint_id]
        if sprint.state == SprintState.ACTIVE and delta != 0:
            _log(
                sprint=sprint,
                card=locked,
                change=ScopeChangeKind.RE_ESTIMATED,
                actor=actor,
                reason=reason,
                delta=delta,
                source=_scope_source(sprint_id=sprint.pk, card_id=locked.pk),
                at=now,
            )
    card.estimate = estimate
    card.save(update_fields=["estimate", "updated_at"])
    return card


@transaction.atomic
def cards_rerank(*, cards, actor):
    """Put `cards` in the given order (product backlog rank; smaller is higher), reusing
    the ranks they already hold so cards outside the list keep their places."""
    ids = [c.pk for c in cards]
    if len(set(ids)) != len(ids):
        raise ValidationError({"cards": ["Each card may appear once."]})
    locked = {c.pk: c for c in Card.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    if len(locked) != len(ids):
        raise ValidationError({"cards": ["Unknown card."]})
    ranks = sorted(c.backlog_rank for c in locked.values())
    if len(set(ranks)) != len(ranks):
        ranks = spread(len(ranks), start=ranks[0])
    changed = []
    for pk, rank in zip(ids, ranks, strict=True):
        if locked[pk].backlog_rank != rank:
            locked[pk].backlog_rank = rank
            changed.append(locked[pk])
    Card.objects.bulk_update(changed, ["backlog_rank"])
    return [locked[pk] for pk in ids]


@transaction.atomic
def cards_rank_top(*, cards, actor):
    """Put `cards`, in this order, above every other card of their boards."""
    locked = cards_rerank(cards=cards, actor=actor)
    if not locked:
        return locked
    boards = {c.board_id for c in locked}
    top = min(Card.objects.filter(board_id__in=boards).values_list("backlog_rank", flat=True))
    for card, rank in zip(locked, ranks_above(top, len(locked)), strict=True):
        card.backlog_rank = rank
    Card.objects.bulk_update(locked, ["backlog_rank"])
    return locked


def card_rank_board_edge(*, card: Card, top: bool) -> Card:
    """Rank `card` above (top) or below every other card of its board in the backlog order."""
    others = (
        Card.objects.filter(board_id=card.board_id)
        .exclude(pk=card.pk)
        .aggregate(lo=Min("backlog_rank"), hi=Max("backlog_rank"))
    )
    card.backlog_rank = rank_above(others["lo"] or 0) if top else rank_below(others["hi"] or 0)
    Card.objects.filter(pk=card.pk).update(backlog_rank=card.backlog_rank)
    return card


@transaction.atomic
def card_plan(*, card: Card, sprint, actor, reason="", position="bottom"):
    """The planning page's move: into `sprint` (or back to the backlog when None), placed
    at the top or bottom of its new list."""
    card = card_sprint_set(card=card, sprint=sprint, actor=actor, reason=reason)
    neighbours = Card.objects.filter(board_id=card.board_id).exclude(pk=card.pk)
    if sprint is None:
        neighbours = neighbours.filter(sprint__isnull=True)
    else:
        neighbours = neighbours.filter(sprint=sprint)
    if position == "top":
        edge = min(neighbours.values_list("backlog_rank", flat=True), default=None)
        rank = rank_above(edge)
    else:
        edge = max(neighbours.values_list("backlog_rank", flat=True), default=None)
        rank = rank_below(edge)
    Card.objects.filter(pk=card.pk).update(backlog_rank=rank)
    card.backlog_rank = rank
    return card


# ------------------------------------------------------------------ sprints
def rotation_order(team: Team) -> list:
    """The team's support rotation, in order: the saved order (active members still in
    the team), then members not placed yet, by username."""
    members = {m.pk: m for m in team.members.filter(is_active=True).order_by("username", "pk")}
    placed = [
        pk
        for pk in RotationSlot.objects.filter(team=team)
        .order_by("position", "pk")
        .values_list("user_id", flat=True)
        if pk in members
    ]
    rest = [pk for pk in members if pk not in set(placed)]
    return [members[pk] for pk in placed + rest]


def _after(order: list, last_id):
    ids = [m.pk for m in order]
    if last_id not in ids:
        return order[0]
    return order[(ids.index(last_id) + 1) % len(order)]


def _next_support_member(team: Team, *, exclude_sprint=None):
    """Round robin over the rotation order: the member after the latest sprint's support
    engineer (by start date)."""
    order = rotation_order(team)
    if not order:
        return None
    previous = Sprint.objects.filter(team=team, support_member__isnull=False)
    if exclude_sprint is not None:
        previous = previous.exclude(pk=exclude_sprint.pk)
    last = previous.order_by("-start", "-pk").values_list("support_member_id", flat=True).first()
    return _after(order, last)


def support_rotation_forecast(team: Team, *, count=4) -> list[dict]:
    """Who is on support in the team's coming sprints: the open (planning or active)
    sprints as they are set, then the next `count` sprints still to be created, by the
    round robin. Rows: {sprint (or None), name, start, member}."""
    if team.support_model != TeamSupportModel.ROTATION:
        return []
    order = rotation_order(team)
    rows = []
    open_sprints = list(
        Sprint.objects.filter(team=team)
        .exclude(state=SprintState.CLOSED)
        .select_related("support_member")
        .order_by("start", "pk")
    )
    for sprint in open_sprints:
        rows.append(
            {"sprint": sprint, "name": sprint.name, "start": sprint.start, "member": sprint.support_member}
        )
    last_sprint = (
        open_sprints[-1]
        if open_sprints
        else Sprint.objects.filter(team=team).order_by("-start", "-pk").first()
    )
    last_id = last_sprint.support_member_id if last_sprint else None
    if last_id is None:
        last_id = (
            Sprint.objects.filter(team=team, support_member__isnull=False)
            .order_by("-start", "-pk")
            .values_list("support_member_id", flat=True)
            .first()
        )
    start = last_sprint.end + timedelta(days=1) if last_sprint else timezone.localdate()
    if not order:
        return rows
    member = None
    for i in range(count):
        member = _after(order, last_id if member is None else member.pk)
        rows.append({"sprint": None, "name": f"Next sprint +{i + 1}", "start": start, "member": member})
        start += timedelta(days=team.sprint_length_days)
    return rows


@transaction.atomic
def team_rotation_set(*, team: Team, actor, users: list) -> list:
    """Save the support rotation's order: every active member of the team, once each."""
    team = Team.objects.select_for_update().get(pk=team.pk)
    if not team.is_development:
        raise ValidationError({"team": ["Only development teams have a support rotation."]})
    members = set(team.members.filter(is_active=True).values_list("pk", flat=True))
    ids = [getattr(u, "pk", u) for u in users]
    errors = []
    if len(set(ids)) != len(ids):
        errors.append("Each member appears once in the rotation.")
    if set(ids) - members:
        errors.append("Only active members of the team can be on the rotation.")
    if members - set(ids):
        errors.append("Place every active member of the team in the rotation.")
    if errors:
        raise ValidationError({"rotation": errors})
    before = [m.username for m in rotation_order(team)]
    RotationSlot.objects.filter(team=team).delete()
    RotationSlot.objects.bulk_create(
        RotationSlot(team=team, user_id=pk, position=i) for i, pk in enumerate(ids)
    )
    order = rotation_order(team)
    after = [m.username for m in order]
    if after != before:
        from audit.services import audit_record

        audit_record(
            actor=actor,
            model="org.team",
            object_id=team.pk,
            action="updated",
            changes={"support_rotation": [before, after]},
            object_repr=team.name,
        )
    return order


def _validate_sprint_fields(*, team, name, start, end, board, support_member, errors):
    if not (name or "").strip():
        errors["name"] = ["A sprint needs a name."]
    if start is None:
        errors["start"] = ["Give the first day."]
    if end is None:
        errors["end"] = ["Give the last day."]
    if start and end and end < start:
        errors["end"] = ["The last day cannot be before the first."]
    if start and end and (end - start).days > 90:
        errors["end"] = ["A sprint lasts at most 90 days."]
    if team is not None and not team.is_development:
        errors["team"] = ["Sprints belong to development teams."]
    if board is not None and team is not None and not board.teams.filter(pk=team.pk).exists():
        errors["board"] = [f"{board.name} is not one of {team.name}'s boards."]
    if (
        support_member is not None
        and team is not None
        and not team.members.filter(pk=support_member.pk).exists()
    ):
        errors["support_member"] = [f"{support_member} is not a member of {team.name}."]


@transaction.atomic
def sprint_create(*, team: Team, name, actor, start=None, end=None, goal="", board=None, support_member=None):
    """A new sprint in planning, with an availability row for every team member and, for
    rotation teams, the next member on support."""
    errors = {}
    if team is None:
        errors["team"] = ["Choose a team."]
    if start is not None and end is None and team is not None:
        end = start + timedelta(days=team.sprint_length_days - 1)
    _validate_sprint_fields(
        team=team, name=name, start=start, end=end, board=board, support_member=support_member, errors=errors
    )
    if errors:
        raise ValidationError(errors)
    if support_member is None and team.support_model == TeamSupportModel.ROTATION:
        support_member = _next_support_member(team)
    if board is None:
        boards = list(team.boards.order_by("pk")[:2])
        board = boards[0] if len(boards) == 1 else None
    sprint = Sprint.objects.create(
        team=team,
        board=board,
        name=name.strip(),
        goal=goal or "",
        start=start,
        end=end,
        support_member=support_member,
    )
    SprintMember.objects.bulk_create(
        SprintMember(
            sprint=sprint, user=user, hours_per_day=DEFAULT_HOURS_PER_DAY, focus_factor=DEFAULT_FOCUS_FACTOR
        )
        for user in team.members.filter(is_active=True).order_by("pk")
    )
    return sprint


_MISSING = object()


@transaction.atomic
def sprint_update(
    *, sprint: Sprint, actor, name=_MISSING, goal=_MISSING, start=_MISSING, end=_MISSING,
    board=_MISSING, support_member=_MISSING,
):  # fmt: skip
    """Edit a sprint. Dates and board are fixed once it starts; a closed sprint is history."""
    sprint = _lock_sprints(sprint)[sprint.pk]
    if sprint.state == SprintState.CLOSED:
        raise TransitionNotAllowed(f"{sprint.name} is closed; it can no longer be edited.")
    values = {
        "name": sprint.name if name is _MISSING else (name or "").strip(),
        "goal": sprint.goal if goal is _MISSING else (goal or ""),
        "start": sprint.start if start is _MISSING else start,
        "end": sprint.end if end is _MISSING else end,
        "board": sprint.board if board is _MISSING else board,
        "support_member": sprint.support_member if support_member is _MISSING else support_member,
    }
    errors = {}
    if sprint.state != SprintState.PLANNING:
        for field in ("start", "end", "board"):
            current = getattr(sprint, field)
            if values[field] != current:
                errors[field] = ["Fixed once the sprint has started."]
    _validate_sprint_fields(
        team=sprint.team, errors=errors, **{k: v for k, v in values.items() if k != "goal"}
    )
    if errors:
        raise ValidationError(errors)
    changed = [f for f, v in values.items() if getattr(sprint, f) != v]
    for field in changed:
        setattr(sprint, field, values[field])
    if changed:
        sprint.save(update_fields=changed)
    return sprint


class ConfirmationRequired(DomainError):
    """A risky start or close (early, over capacity) that the caller did not confirm."""

    code = "confirmation_required"


def _qty(value: Decimal, unit: str) -> str:
    value = Decimal(value).normalize()
    text = f"{value:f}"
    return f"{text} {unit if unit == 'hours' else 'points'}"


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


@dataclass
class SprintStartPreview:
    """What starting the sprint now would do, and what makes it risky."""

    sprint: Sprint
    today: date
    card_count: int
    committed: Decimal
    capacity: Decimal
    capacity_line: Decimal
    support_reserved: Decimal
    unit: str
    days_early: int
    over_capacity_by: Decimal

    @property
    def risks(self) -> list[str]:
        out = []
        if self.days_early > 0:
            out.append(
                f"It starts {_days(self.days_early)} early: its first day is {self.sprint.start:%a %d %b %Y}."
            )
        if self.over_capacity_by > 0:
            out.append(
                f"It is over capacity by {_qty(self.over_capacity_by, self.unit)}: "
                f"{_qty(self.committed, self.unit)} committed against a plannable "
                f"{_qty(self.capacity_line, self.unit)} (capacity {_qty(self.capacity, self.unit)} "
                f"less {_qty(self.support_reserved, self.unit)} reserved for support)."
            )
        return out

    @property
    def summary(self) -> str:
        cards = f"{self.card_count} card{'s' if self.card_count != 1 else ''}"
        return (
            f"Starting {self.sprint.name} records the commitment: {cards}, "
            f"{_qty(self.committed, self.unit)}, against a capacity of {_qty(self.capacity, self.unit)}."
        )

    def as_api(self) -> dict:
        return {
            "card_count": self.card_count,
            "committed": float(self.committed),
            "capacity": float(self.capacity),
            "capacity_line": float(self.capacity_line),
            "unit": self.unit,
            "days_early": self.days_early,
            "over_capacity_by": float(self.over_capacity_by),
            "risks": self.risks,
            "summary": self.summary,
        }


def sprint_start_preview(*, sprint: Sprint, at=None) -> SprintStartPreview:
    from .selectors import sprint_panel

    today = timezone.localdate(at or timezone.now())
    view = sprint_panel(sprint)
    p = view.panel
    return SprintStartPreview(
        sprint=sprint,
        today=today,
        card_count=Card.objects.filter(sprint=sprint).count(),
        committed=p.committed,
        capacity=p.capacity,
        capacity_line=p.capacity_line,
        support_reserved=p.support_reserved,
        unit=view.unit,
        days_early=max((sprint.start - today).days, 0),
        over_capacity_by=p.overcommitted_by,
    )


@dataclass
class SprintClosePreview:
    """What closing the sprint now would do: which cards are carried where, how early."""

    sprint: Sprint
    today: date
    target: Sprint | None
    unfinished: list
    finished_estimate: Decimal
    unit: str
    days_early: int

    @property
    def destination(self) -> str:
        return self.target.name if self.target is not None else "the product backlog"

    @property
    def risks(self) -> list[str]:
        return _close_risks(self.sprint, self.today)

    @property
    def summary(self) -> str:
        n = len(self.unfinished)
        if not n:
            return f"Every card of {self.sprint.name} is done; nothing is carried over."
        keys = ", ".join(c.key for c in self.unfinished[:10]) + (" …" if n > 10 else "")
        return f"{n} unfinished card{'s' if n != 1 else ''} ({keys}) go to {self.destination}."

    def as_api(self) -> dict:
        return {
            "days_early": self.days_early,
            "carry_over_to": self.target.pk if self.target else None,
            "destination": "sprint" if self.target else "backlog",
            "unfinished": [{"card": c.pk, "key": c.key, "column": c.column.name} for c in self.unfinished],
            "velocity": float(self.finished_estimate),
            "risks": self.risks,
            "summary": self.summary,
        }


def _close_risks(sprint: Sprint, today: date) -> list[str]:
    days_early = (sprint.end - today).days
    if days_early <= 0:
        return []
    return [f"It closes {_days(days_early)} early: its last day is {sprint.end:%a %d %b %Y}."]


def sprint_close_preview(*, sprint: Sprint, carry_over_to=None, at=None) -> SprintClosePreview:
    today = timezone.localdate(at or timezone.now())
    cards = list(Card.objects.filter(sprint=sprint).select_related("column").order_by("backlog_rank", "pk"))
    unfinished = [c for c in cards if c.column.category != ColumnCategory.DONE]
    done = sum((_dec(c.estimate) for c in cards if c.column.category == ColumnCategory.DONE), Decimal("0"))
    return SprintClosePreview(
        sprint=sprint,
        today=today,
        target=carry_over_to,
        unfinished=unfinished,
        finished_estimate=done,
        unit=sprint.team.capacity_unit,
        days_early=max((sprint.end - today).days, 0),
    )


def _require_confirmation(action: str, risks: list[str], confirm: bool):
    if risks and not confirm:
        raise ConfirmationRequired(
            f"Confirm to {action}: " + " ".join(risks) + " Send confirm: true to go ahead."
        )


@transaction.atomic
def sprint_start(*, sprint: Sprint, actor, confirm=False, at=None):
    """Planning -> active: record the commitment (cards and their estimates) and the
    capacity as they stand now. One active sprint per team. Starting before the first
    day or over capacity needs `confirm` (409 confirmation_required)."""
    from .selectors import sprint_capacity_get

    now = at or timezone.now()
    sprint = _lock_sprints(sprint)[sprint.pk]
    _guard_transition(sprint, SprintState.ACTIVE)
    if Sprint.objects.filter(team_id=sprint.team_id, state=SprintState.ACTIVE).exists():
        raise TransitionNotAllowed(f"{sprint.team.name} already has an active sprint; close it first.")
    _require_confirmation(f"start {sprint.name}", sprint_start_preview(sprint=sprint, at=now).risks, confirm)
    cards = list(Card.objects.filter(sprint=sprint).values_list("pk", "estimate"))
    SprintCommitment.objects.bulk_create(
        SprintCommitment(sprint=sprint, card_id=pk, estimate=_dec(estimate)) for pk, estimate in cards
    )
    capacity = sprint_capacity_get(sprint)
    sprint.committed = sum((_dec(e) for _, e in cards), Decimal("0"))
    sprint.capacity_at_start = capacity.capacity
    sprint.state = SprintState.ACTIVE
    sprint.started_at = now
    try:
        with transaction.atomic():
            sprint.save(update_fields=["committed", "capacity_at_start", "state", "started_at"])
    except IntegrityError:
        raise TransitionNotAllowed(
            f"{sprint.team.name} already has an active sprint; close it first."
        ) from None
    return sprint


@transaction.atomic
def sprint_close(*, sprint: Sprint, actor, carry_over_to=None, confirm=False, at=None):
    """Active -> closed: unfinished cards go to `carry_over_to` (another open sprint of the
    team) or back to the backlog, each through `card_sprint_set` so the log shows it, and
    each recorded as a carry-over of the closed sprint; the finished estimates become the
    sprint's velocity. Closing before the last day needs `confirm`."""
    now = at or timezone.now()
    if carry_over_to is not None:
        if carry_over_to.pk == sprint.pk:
            raise ValidationError({"carry_over_to": ["Choose another sprint than the one closing."]})
        if carry_over_to.team_id != sprint.team_id:
            raise ValidationError({"carry_over_to": ["Choose a sprint of the same team."]})
    unfinished = list(
        Card.objects.select_for_update()
        .filter(sprint=sprint)
        .exclude(column__category=ColumnCategory.DONE)
        .order_by("pk")
    )
    locked = _lock_sprints(sprint, carry_over_to)
    sprint = locked[sprint.pk]
    _guard_transition(sprint, SprintState.CLOSED)
    target = locked.get(carry_over_to.pk) if carry_over_to else None
    if target is not None and target.state == SprintState.CLOSED:
        raise ValidationError({"carry_over_to": [f"{target.name} is closed."]})
    _require_confirmation(f"close {sprint.name}", _close_risks(sprint, timezone.localdate(now)), confirm)
    columns = dict(Card.objects.filter(pk__in=[c.pk for c in unfinished]).values_list("pk", "column__name"))
    SprintCarryOver.objects.bulk_create(
        SprintCarryOver(
            sprint=sprint,
            card=card,
            to_sprint=target,
            estimate=card.estimate,
            column_name=columns.get(card.pk, "")[:60],
            at=now,
            actor=actor,
        )
        for card in unfinished
    )
    reason = (
        f"Carried over from {sprint.name} to {target.name}"
        if target
        else f"Back to the backlog from {sprint.name}"
    )
    for card in unfinished:
        card_sprint_set(card=card, sprint=target, actor=actor, reason=reason, at=now)
    done = Card.objects.filter(sprint=sprint, column__category=ColumnCategory.DONE).aggregate(
        s=Sum("estimate")
    )
    sprint.velocity = _dec(done["s"])
    sprint.state = SprintState.CLOSED
    sprint.closed_at = now
    sprint.save(update_fields=["velocity", "state", "closed_at"])
    return sprint


@transaction.atomic
def sprint_member_update(
    *, member: SprintMember, actor, days_off=None, hours_per_day=None, focus_factor=None
):
    """A member's availability in one sprint (not once the sprint is closed)."""
    member = SprintMember.objects.select_for_update().select_related("sprint").get(pk=member.pk)
    if member.sprint.state == SprintState.CLOSED:
        raise TransitionNotAllowed("The sprint is closed; its availability is history.")
    from .capacity import working_days

    errors = {}
    values = {}
    for field, value, low, high in (
        ("days_off", days_off, Decimal("0"), Decimal(working_days(member.sprint.start, member.sprint.end))),
        ("hours_per_day", hours_per_day, Decimal("0"), Decimal("24")),
        ("focus_factor", focus_factor, Decimal("0"), Decimal("1")),
    ):
        if value is None:
            continue
        try:
            value = Decimal(str(value))
        except (InvalidOperation, ValueError):
            errors[field] = ["Enter a number."]
            continue
        if not (low <= value <= high):
            errors[field] = [f"Between {low} and {high}."]
        values[field] = value
    if errors:
        raise ValidationError(errors)
    for field, value in values.items():
        setattr(member, field, value)
    if values:
        member.save(update_fields=list(values))
    return member


# ------------------------------------------------------------------ team settings
TEAM_SETTING_FIELDS = (
    "capacity_unit",
    "sprint_length_days",
    "support_allocation_percent",
    "support_model",
    "default_estimates",
    "auto_resolve_on_done",
)


@transaction.atomic
def team_settings_update(*, team: Team, actor, **values):
    """A development team's delivery settings: the team service's rules, lock and audit
    (org.services.team_update), limited to these settings."""
    unknown = set(values) - set(TEAM_SETTING_FIELDS)
    if unknown:
        raise ValidationError({name: ["Not a delivery setting."] for name in unknown})
    if not Team.objects.filter(pk=team.pk, is_development=True).exists():
        raise ValidationError({"team": ["Only development teams have delivery settings."]})
    return team_update(team=team, actor=actor, **values)

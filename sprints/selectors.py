"""Reads for sprints: capacity, the live panel, burndown, team history, planning lists.

Every function here runs a fixed number of queries, whatever the number of cards.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from boards.models import Board, Card, ColumnCategory
from incidents.models import TimeEntry
from org.models import CapacityUnit, Team

from . import capacity as calc
from .models import (
    ScopeChange,
    Sprint,
    SprintCarryOver,
    SprintCommitment,
    SprintMember,
    SprintState,
    WorkSource,
)

HISTORY_CHART_SPRINTS = 6
UNPLANNED_SOURCES = (WorkSource.ESCALATION, WorkSource.EMERGENCY_CHANGE, WorkSource.OTHER)
SOURCE_LABELS: dict[str, str] = {
    WorkSource.ESCALATION: "Escalated incidents",
    WorkSource.EMERGENCY_CHANGE: "Emergency changes",
    WorkSource.OTHER: "Other added work",
    "support_time": "Support time logged",
}


def sprint_list(*, team: Team | None = None, state: str | None = None) -> QuerySet[Sprint]:
    qs = Sprint.objects.select_related("team", "board", "support_member")
    if team is not None:
        qs = qs.filter(team=team)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("team__name", "-start", "-pk")


def sprint_get(pk: int | str) -> Sprint:
    return Sprint.objects.select_related("team", "board", "support_member").get(pk=pk)


def sprint_members(sprint: Sprint) -> list[SprintMember]:
    return list(sprint.members.select_related("user").order_by("user__username", "pk"))


def _availability(members: Iterable[SprintMember]) -> list[calc.Availability]:
    return [
        calc.Availability(
            user_id=m.user_id, days_off=m.days_off, hours_per_day=m.hours_per_day, focus_factor=m.focus_factor
        )
        for m in members
    ]


def _history(sprint: Sprint) -> list[calc.PastSprint]:
    """The last three closed sprints of the team before this one, most recent first, with
    the focused days they had."""
    past = list(
        Sprint.objects.filter(
            team_id=sprint.team_id, state=SprintState.CLOSED, velocity__isnull=False, start__lt=sprint.start
        )
        .exclude(pk=sprint.pk)
        .order_by("-start", "-pk")
        .values("pk", "start", "end", "velocity")[: calc.HISTORY_SPRINTS]
    )
    by_sprint: defaultdict[int, list[SprintMember]] = defaultdict(list)
    for m in SprintMember.objects.filter(sprint_id__in=[p["pk"] for p in past]):
        by_sprint[m.sprint_id].append(m)
    result = []
    for p in past:
        days = calc.working_days(p["start"], p["end"])
        focused = sum((a.focused_days(days) for a in _availability(by_sprint[p["pk"]])), Decimal("0"))
        result.append(calc.PastSprint(velocity=calc.d(p["velocity"]), focused_days=focused))
    return result


def sprint_capacity_get(sprint: Sprint, members: Sequence[SprintMember] | None = None) -> calc.Capacity:
    team = sprint.team
    if members is None:
        members = list(sprint.members.all())
    history = _history(sprint) if team.capacity_unit == CapacityUnit.POINTS else []
    return calc.sprint_capacity(
        unit=team.capacity_unit,
        members=_availability(members),
        days=calc.working_days(sprint.start, sprint.end),
        history=history,
        support_model=team.support_model,
        allocation_percent=team.support_allocation_percent,
        support_user_id=sprint.support_member_id,
    )


def _day_bounds(sprint: Sprint) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    begin = timezone.make_aware(datetime.combine(sprint.start, time.min), tz)
    finish = timezone.make_aware(datetime.combine(sprint.end + timedelta(days=1), time.min), tz)
    if sprint.closed_at and sprint.closed_at < finish:
        finish = sprint.closed_at
    return begin, finish


def support_hours(sprint: Sprint, user_ids: Sequence[int]) -> Decimal:
    """Hours team members logged on incidents during the sprint (so far)."""
    if sprint.state == SprintState.PLANNING or not user_ids:
        return Decimal("0")
    begin, finish = _day_bounds(sprint)
    minutes = TimeEntry.objects.filter(
        user_id__in=user_ids, created_at__gte=begin, created_at__lt=finish
    ).aggregate(m=Sum("minutes"))["m"]
    return Decimal(minutes or 0) / 60


def _scope_filter(sprint: Sprint) -> QuerySet[ScopeChange]:
    """Changes that count for the sprint: the carry-over at closing is not scope change
    during the sprint, it is the sprint ending."""
    qs = ScopeChange.objects.filter(sprint=sprint)
    if sprint.closed_at:
        qs = qs.filter(at__lt=sprint.closed_at)
    return qs


@dataclass
class PanelView:
    sprint: Sprint
    unit: str
    capacity: calc.Capacity
    panel: calc.Panel
    support_logged_hours: Decimal

    @property
    def by_source(self) -> list[dict[str, Any]]:
        return [
            {"key": key, "label": SOURCE_LABELS.get(key, key), "value": value}
            for key, value in self.panel.unplanned_by_source.items()
        ]

    def as_api(self) -> dict[str, Any]:
        p, member = self.panel, self.sprint.support_member
        return {
            "sprint": self.sprint.pk,
            "state": self.sprint.state,
            "unit": self.unit,
            "capacity": float(p.capacity),
            "support_reserved": float(p.support_reserved),
            "committed": float(p.committed),
            "unplanned": float(p.unplanned),
            "completed": float(p.completed),
            "remaining": float(p.remaining),
            "overcommitted_by": float(p.overcommitted_by),
            "at_risk": list(p.at_risk),
            "unplanned_by_source": {key: float(value) for key, value in p.unplanned_by_source.items()},
            "capacity_line": float(p.capacity_line),
            "planned_scope": float(p.planned_scope),
            "support_share_percent": float(p.support_share),
            "capacity_basis": self.capacity.basis,
            "support_member": {"id": member.pk, "name": member.display_name} if member else None,
        }


def sprint_panel(
    sprint: Sprint,
    *,
    members: Sequence[SprintMember] | None = None,
    cards: Sequence[Mapping[str, Any]] | None = None,
) -> PanelView:
    """The capacity panel's numbers. `cards` (rows with pk, estimate, backlog_rank and the
    column category) may be passed when the caller already loaded them."""
    team = sprint.team
    if members is None:
        members = list(sprint.members.all())
    cap = sprint_capacity_get(sprint, members)
    if cards is None:
        cards = list(
            Card.objects.filter(sprint=sprint).values("pk", "estimate", "backlog_rank", "column__category")
        )
    if sprint.state == SprintState.PLANNING:
        committed = sum((calc.d(c["estimate"]) for c in cards), Decimal("0"))
        planned_ids = {c["pk"] for c in cards}
        planned_delta, logged = Decimal("0"), Decimal("0")
        by_source: dict[str, Decimal] = {}
    else:
        committed = calc.d(sprint.committed)
        planned_ids = set(SprintCommitment.objects.filter(sprint=sprint).values_list("card_id", flat=True))
        sums: dict[str, Decimal | None] = {
            row["source"]: row["total"]
            for row in _scope_filter(sprint).values("source").annotate(total=Sum("estimate_delta")).order_by()
        }
        planned_delta = calc.d(sums.pop(WorkSource.PLANNED, None))
        by_source = {key: calc.d(sums.get(key)) for key in UNPLANNED_SOURCES if sums.get(key)}
        logged = support_hours(sprint, [m.user_id for m in members])
    panel = calc.capacity_panel(
        capacity=cap.capacity,
        support_reserved=cap.support_reserved,
        committed=committed,
        planned_delta=planned_delta,
        unplanned_by_source=by_source,
        support_time=logged if team.capacity_unit == CapacityUnit.HOURS else Decimal("0"),
        cards=[
            calc.CardLoad(
                card_id=c["pk"],
                estimate=calc.d(c["estimate"]),
                backlog_rank=c["backlog_rank"],
                done=c["column__category"] == ColumnCategory.DONE,
                planned=c["pk"] in planned_ids,
            )
            for c in cards
        ],
    )
    return PanelView(
        sprint=sprint, unit=team.capacity_unit, capacity=cap, panel=panel, support_logged_hours=logged
    )


def sprint_cards(sprint: Sprint) -> list[Card]:
    """The sprint's cards in rank order, with what their rows show."""
    return list(
        Card.objects.filter(sprint=sprint)
        .select_related("column", "lane", "assignee")
        .order_by("backlog_rank", "pk")
    )


def backlog_cards(sprint: Sprint, limit: int = 200) -> list[Card]:
    """The product backlog next to a sprint: cards of the sprint's board (or the team's
    boards) in no sprint, not done, not cancelled, by rank."""
    qs = Card.objects.filter(sprint__isnull=True, cancelled_at__isnull=True).exclude(
        column__category=ColumnCategory.DONE
    )
    qs = qs.filter(board_id=sprint.board_id) if sprint.board_id else qs.filter(board__teams=sprint.team_id)
    return list(qs.select_related("column", "assignee").order_by("backlog_rank", "pk")[:limit])


def scope_changes(sprint: Sprint) -> list[ScopeChange]:
    return list(
        ScopeChange.objects.filter(sprint=sprint).select_related("actor", "card").order_by("at", "pk")
    )


def sprint_burndown(sprint: Sprint) -> list[dict[str, Any]]:
    if sprint.state == SprintState.PLANNING:
        return []
    tz = timezone.get_current_timezone()
    changes: list[tuple[date, Decimal]] = [
        (timezone.localtime(at, tz).date(), delta)
        for at, delta in _scope_filter(sprint).values_list("at", "estimate_delta")
    ]
    done: list[tuple[date, Decimal]] = [
        (timezone.localtime(at, tz).date(), calc.d(est))
        for at, est in Card.objects.filter(
            sprint=sprint, column__category=ColumnCategory.DONE, done_at__isnull=False
        ).values_list("done_at", "estimate")
    ]
    today = timezone.localdate()
    if sprint.closed_at:
        today = min(today, timezone.localtime(sprint.closed_at, tz).date())
    return calc.burndown(
        start=sprint.start,
        end=sprint.end,
        today=today,
        committed=calc.d(sprint.committed),
        scope_changes=changes,
        completions=done,
    )


def team_history(team: Team, limit: int = HISTORY_CHART_SPRINTS) -> list[dict[str, Any]]:
    """Velocity and planned vs unplanned work of the team's last closed sprints, oldest
    first: the support tax over time."""
    sprints = list(
        Sprint.objects.filter(team=team, state=SprintState.CLOSED).order_by("-start", "-pk")[:limit]
    )[::-1]
    if not sprints:
        return []
    ids = [s.pk for s in sprints]
    sums: defaultdict[int, dict[str, Decimal]] = defaultdict(dict)
    for row in (
        ScopeChange.objects.filter(sprint_id__in=ids, at__lt=F("sprint__closed_at"))
        .values("sprint_id", "source")
        .annotate(total=Sum("estimate_delta"))
        .order_by()
    ):
        sums[row["sprint_id"]][row["source"]] = calc.d(row["total"])
    logged: dict[int, Decimal] = {}
    if team.capacity_unit == CapacityUnit.HOURS:
        user_ids = list(team.members.values_list("pk", flat=True))
        aggregates: dict[str, Sum] = {}
        for s in sprints:
            begin, finish = _day_bounds(s)
            aggregates[f"s{s.pk}"] = Sum("minutes", filter=Q(created_at__gte=begin, created_at__lt=finish))
        row = TimeEntry.objects.filter(user_id__in=user_ids).aggregate(**aggregates)
        logged = {s.pk: Decimal(row[f"s{s.pk}"] or 0) / 60 for s in sprints}
    history: list[dict[str, Any]] = []
    for s in sprints:
        by_source: dict[str, Decimal] = {key: sums[s.pk].get(key, Decimal("0")) for key in UNPLANNED_SOURCES}
        if team.capacity_unit == CapacityUnit.HOURS:
            by_source["support_time"] = logged.get(s.pk, Decimal("0"))
        unplanned = sum(by_source.values(), Decimal("0"))
        capacity = calc.d(s.capacity_at_start)
        history.append(
            {
                "id": s.pk,
                "name": s.name,
                "committed": calc.rounded(calc.d(s.committed)),
                "planned": calc.rounded(
                    calc.d(s.committed) + sums[s.pk].get(WorkSource.PLANNED, Decimal("0"))
                ),
                "velocity": calc.rounded(calc.d(s.velocity)),
                "capacity": calc.rounded(capacity),
                "unplanned": calc.rounded(unplanned),
                "by_source": {key: calc.rounded(value) for key, value in by_source.items()},
                "support_share": calc.rounded(unplanned * 100 / capacity) if capacity else Decimal("0"),
            }
        )
    return history


def active_sprint_for_board(board: Board) -> Sprint | None:
    """The active sprint planning this board (or one of its teams), with its support member."""
    return (
        Sprint.objects.filter(state=SprintState.ACTIVE)
        .filter(Q(board=board) | Q(board__isnull=True, team__boards=board))
        .select_related("support_member", "team")
        .order_by("-start")
        .first()
    )


def open_sprints_for_team(team_id: int, exclude: Sprint | None = None) -> list[Sprint]:
    qs = Sprint.objects.filter(team_id=team_id).exclude(state=SprintState.CLOSED)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return list(qs.order_by("start", "pk"))


def sprint_carry_overs(sprint: Sprint) -> list[SprintCarryOver]:
    """The closed sprint's unfinished cards and where each went."""
    return list(
        SprintCarryOver.objects.filter(sprint=sprint).select_related("card", "to_sprint").order_by("pk")
    )

"""What starting or closing a sprint now would do, and what makes it risky: the
confirmation step's text for the browser and the API, shared with `lifecycle`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from boards.models import Card, ColumnCategory
from tracker.exceptions import DomainError

from ..models import Sprint
from .common import _dec


class ConfirmationRequired(DomainError):
    """A risky start or close (early, over capacity) that the caller did not confirm."""

    code = "confirmation_required"


def _qty(value: Decimal, unit: str) -> str:
    text = f"{Decimal(value).normalize():f}"
    return f"{text} {unit if unit == 'hours' else 'points'}"


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def _require_confirmation(action: str, risks: list[str], confirm: bool) -> None:
    if risks and not confirm:
        raise ConfirmationRequired(
            f"Confirm to {action}: " + " ".join(risks) + " Send confirm: true to go ahead."
        )


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
        # A sprint whose capacity is not known yet (no availability, no velocity) has no line
        # to be over; the capacity panel says so, and starting it asks nothing more.
        if self.over_capacity_by > 0 and self.capacity > 0:
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

    def as_api(self) -> dict[str, Any]:
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


def sprint_start_preview(*, sprint: Sprint, at: datetime | None = None) -> SprintStartPreview:
    from ..selectors import sprint_panel

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
    unfinished: list[Card]
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

    def as_api(self) -> dict[str, Any]:
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


def sprint_close_preview(
    *, sprint: Sprint, carry_over_to: Sprint | None = None, at: datetime | None = None
) -> SprintClosePreview:
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

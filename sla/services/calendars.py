"""Business calendars: validated and normalised, audited, and their policies' clocks
recomputed after an edit."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import audit_created, audit_deleted, audit_snapshot, audit_updated
from incidents.history import Actor
from tracker.exceptions import DomainError

from .. import calendar as bcal
from ..models import BusinessCalendar, SLAPolicy
from .retarget import request_retarget

CALENDAR_FIELDS = ("name", "timezone", "always_open", "hours", "holidays", "country", "subdivision")


def clean_calendar(calendar: BusinessCalendar) -> None:
    errors: dict[str, list[str]] = {}
    try:
        parsed = bcal.parse_calendar(
            timezone=calendar.timezone,
            hours=calendar.hours,
            holidays=calendar.holidays,
            country=calendar.country,
            subdivision=calendar.subdivision,
            always_open=calendar.always_open,
        )
    except bcal.CalendarError as exc:
        errors.update(exc.errors)
    else:
        # Store the normalised form: sorted ISO dates, merged intervals, upper-case codes.
        calendar.hours = bcal.format_hours(parsed.weekly)
        calendar.holidays = sorted(d.isoformat() for d in parsed.holidays)
        calendar.country, calendar.subdivision = parsed.country, parsed.subdivision
    try:
        calendar.full_clean(exclude=["hours", "holidays"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def calendar_create(*, actor: Actor = None, **data: Any) -> BusinessCalendar:
    calendar = BusinessCalendar(**{k: v for k, v in data.items() if k in CALENDAR_FIELDS})
    clean_calendar(calendar)
    calendar.save()
    request_retarget(SLAPolicy.objects.filter(calendar=calendar))
    audit_created(actor=actor, instance=calendar, fields=CALENDAR_FIELDS)
    return calendar


@transaction.atomic
def calendar_update(*, calendar: BusinessCalendar, actor: Actor = None, **data: Any) -> BusinessCalendar:
    # NO KEY UPDATE: a policy saved meanwhile may still reference the calendar.
    calendar = BusinessCalendar.objects.select_for_update(no_key=True).get(pk=calendar.pk)
    before = audit_snapshot(calendar, CALENDAR_FIELDS)
    for field, value in data.items():
        if field in CALENDAR_FIELDS:
            setattr(calendar, field, value)
    clean_calendar(calendar)
    calendar.save()
    request_retarget(SLAPolicy.objects.filter(calendar=calendar))
    audit_updated(actor=actor, instance=calendar, before=before)
    return calendar


@transaction.atomic
def calendar_delete(*, calendar: BusinessCalendar, actor: Actor = None) -> None:
    """Delete a calendar no policy uses (a policy's calendar is protected)."""
    calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    if calendar.policies.exists():
        raise DomainError(
            f"The calendar “{calendar}” is used by SLA policies: give them another calendar first."
        )
    audit_deleted(actor=actor, instance=calendar, before=audit_snapshot(calendar, CALENDAR_FIELDS))
    calendar.delete()

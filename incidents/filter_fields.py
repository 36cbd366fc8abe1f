"""Date-range bounds for the incident filters (the queue page and the list endpoint).

A bound is an ISO 8601 date (`2026-12-01`) or date and time (`2026-12-01T09:30+01:00`). Both
ends of a range are inclusive, as a support lead reads "created from 1 to 5 December": a
date-only `from` starts at midnight and a date-only `to` ends at the end of that day, in the
viewer's time zone (their profile's zone; the site's when they have none). A date and time
without an offset is read in the viewer's zone too; one with an offset is taken as written.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone

BOUND_HELP = "A date (2026-12-01) or a date and time with its offset (2026-12-01T09:30+01:00)."


class DateOrDateTimeField(forms.CharField):
    """A date or an aware-or-naive date and time; the value is the `date` or `datetime`."""

    default_error_messages = {
        "invalid": "Enter a date like 2026-12-01, or a date and time like 2026-12-01T09:30+01:00."
    }

    def to_python(self, value: Any) -> date | datetime | None:  # type: ignore[override]
        text = str(super().to_python(value) or "").strip()
        if not text:
            return None
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return datetime.fromisoformat(text.replace(" ", "T", 1))
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


def viewer_zone(request: Any) -> tzinfo:
    """The zone date-only bounds are read in: the signed-in user's own (the API's token
    callers are not seen by the browser's time-zone middleware), else the active one."""
    name = getattr(getattr(request, "user", None), "time_zone", "") or ""
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.get_current_timezone()


def bound_instant(value: date | datetime, *, end: bool, zone: tzinfo) -> datetime:
    """The instant a bound stands for; a date-only end bound is the start of the next day
    (the filter then compares with < instead of <=)."""
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value, zone)
    day = value + timedelta(days=1) if end else value
    return timezone.make_aware(datetime.combine(day, time.min), zone)


class DateBoundFilter(django_filters.Filter):
    """`<field> >= from` or `<field> <= to` (`< the next day` for a date-only `to`)."""

    field_class = DateOrDateTimeField

    def __init__(self, *, end: bool, **kwargs: Any) -> None:
        self.end = end
        kwargs.setdefault("help_text", BOUND_HELP)
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date", "placeholder": "YYYY-MM-DD"}))
        super().__init__(**kwargs)

    def filter(self, qs: QuerySet[Any], value: date | datetime | None) -> QuerySet[Any]:
        if value is None:
            return qs
        instant = bound_instant(value, end=self.end, zone=viewer_zone(getattr(self.parent, "request", None)))
        if not self.end:
            return qs.filter(**{f"{self.field_name}__gte": instant})
        lookup = "lte" if isinstance(value, datetime) else "lt"
        return qs.filter(**{f"{self.field_name}__{lookup}": instant})


# (from filter, to filter) pairs the filter form checks for order.
DATE_RANGES = (("created_from", "created_to"), ("updated_from", "updated_to"))


def check_date_ranges(form: forms.Form) -> None:
    """A range whose end comes before its start is an error on its end field."""
    data = form.cleaned_data
    for start_name, end_name in DATE_RANGES:
        start, end = data.get(start_name), data.get(end_name)
        if start is None or end is None:
            continue
        zone = timezone.get_current_timezone()
        if bound_instant(end, end=True, zone=zone) <= bound_instant(start, end=False, zone=zone):
            form.add_error(end_name, "The end of the range is before its start.")


class IncidentFilterForm(forms.Form):
    """The incident FilterSet's form: its fields, and the ranges' order checked."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        check_date_ranges(self)
        return cleaned

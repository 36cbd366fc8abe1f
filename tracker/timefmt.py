"""Instants written for a page in the viewer's time zone, without a template filter each.

`{{ value|date:"j M H:i T" }}` converts and formats through Django's generic format
machinery; a queue page writes some 250 instants and that was a fifth of its rendering.
`PageInstants` converts each value to the current zone once and writes the few formats the
lists use, exactly as the `date` filter writes them (month and weekday names from Django's
translated tables); tests/incidents/test_queue_rows.py compares the two."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR


@dataclass(frozen=True)
class Instant:
    """One instant in the viewer's zone, as the date filter writes it: `iso` ("c"), `brief`
    ("j M H:i"), `short` ("j M H:i T"), `full` ("j M Y H:i T") and `day` ("D j M H:i T")."""

    iso: str
    brief: str
    short: str
    full: str
    day: str


class PageInstants:
    def __init__(self) -> None:
        self.zone = timezone.get_current_timezone()
        self.months = {m: str(name).title() for m, name in MONTHS_3.items()}
        self.weekdays = {d: str(name) for d, name in WEEKDAYS_ABBR.items()}

    def __call__(self, value: datetime | None) -> Instant | None:
        if value is None:
            return None
        local = timezone.localtime(value, self.zone)
        month = self.months[local.month]
        zone = local.tzname() or ""
        brief = f"{local.day} {month} {local:%H:%M}"
        clock = f"{local:%H:%M} {zone}"
        return Instant(
            iso=local.isoformat(),
            brief=brief,
            short=f"{brief} {zone}",
            full=f"{local.day} {month} {local.year} {clock}",
            day=f"{self.weekdays[local.weekday()]} {local.day} {month} {clock}",
        )

"""Demo SLA settings: a London business-hours calendar with GB public holidays, a 24×7
calendar, and policies for P1–P5 (P1 around the clock). Idempotent; runs before the
incidents' demo so its incidents get timers."""

from . import services
from .models import BusinessCalendar, SLAPolicy

OFFICE = {d: [["09:00", "17:30"]] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": [], "sun": []}

POLICIES: tuple[tuple[str, str, int, int, str, dict[str, bool]], ...] = (
    # priority, name, response, resolution, calendar key, actions
    (
        "P1",
        "P1 critical — 24×7",
        15,
        240,
        "always",
        {"escalate_on_breach": True, "declare_major_on_breach": True},
    ),
    ("P2", "P2 high — business hours", 60, 8 * 60, "office", {"escalate_on_breach": True}),
    ("P3", "P3 moderate — business hours", 4 * 60, 3 * 8 * 60, "office", {}),
    ("P4", "P4 low — business hours", 8 * 60, 5 * 8 * 60, "office", {}),
    ("P5", "P5 planning — business hours", 16 * 60, 10 * 8 * 60, "office", {"notify_on_breach": False}),
)


def _calendar(name, log, **data):
    existing = BusinessCalendar.objects.filter(name=name).first()
    if existing:
        return existing
    log(f"SLA calendar “{name}”")
    return services.calendar_create(name=name, **data)


def seed(ctx, log):
    calendars = {
        "office": _calendar(
            "London office hours", log, timezone="Europe/London", hours=OFFICE, holidays=[], country="GB"
        ),
        "always": _calendar("24×7", log, timezone="UTC", always_open=True, hours={}),
    }
    for priority, name, response, resolution, cal_key, actions in POLICIES:
        if SLAPolicy.objects.filter(name=name).exists():
            continue
        services.policy_create(
            name=name,
            priority=priority,
            response_minutes=response,
            resolution_minutes=resolution,
            calendar=calendars[cal_key],
            warn_percent=75,
            **actions,
        )
        log(f"SLA policy {name}")
    ctx.extra["sla_calendars"] = calendars

"""Business calendars, SLA policies and the per-incident timers they drive."""

from django.db import models

from incidents.models import HoldReason


def default_hours() -> dict[str, list[list[str]]]:
    day = [["09:00", "17:00"]]
    return {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": [], "sun": []}


def default_pause_on() -> list[str]:
    return [HoldReason.AWAITING_CUSTOMER.value, HoldReason.AWAITING_VENDOR.value]


class BusinessCalendar(models.Model):
    """When the clock runs: working intervals per weekday in a time zone, minus holidays.

    `hours` maps "mon".."sun" to lists of ["HH:MM", "HH:MM"] intervals (an end of "24:00"
    or an end before the start runs past midnight). `always_open` means 24×7.
    """

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    always_open = models.BooleanField(default=False)
    hours = models.JSONField(default=default_hours, blank=True)
    holidays = models.JSONField(
        default=list, blank=True, help_text="Dates (YYYY-MM-DD) with no working time."
    )
    country = models.CharField(
        max_length=2, blank=True, help_text="ISO 3166 code: also skip that country's public holidays."
    )
    subdivision = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class SLAPolicy(models.Model):
    """Targets for incidents matching priority and, optionally, service, customer and type.

    The most specific active policy wins (see sla.services.policy_for).
    """

    name = models.CharField(max_length=100)
    priority = models.CharField(max_length=2, choices=[(f"P{n}", f"P{n}") for n in range(1, 6)])
    service = models.ForeignKey(
        "org.Service", null=True, blank=True, on_delete=models.CASCADE, related_name="sla_policies"
    )
    customer = models.ForeignKey(
        "org.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="sla_policies"
    )
    incident_type = models.CharField(max_length=20, blank=True)
    response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="policies")
    warn_percent = models.PositiveSmallIntegerField(default=75)
    pause_on = models.JSONField(
        default=default_pause_on,
        blank=True,
        help_text="Hold reasons that pause the clock (default: customer and vendor).",
    )
    notify_on_breach = models.BooleanField(default=True)
    escalate_on_breach = models.BooleanField(default=False)
    declare_major_on_breach = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    # Set when an edit (of the policy or its calendar) asks for the clocks it runs to be
    # recomputed; cleared by the task that did it (the sweep re-queues a lost request).
    retarget_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set by the run doing it and refreshed as it goes (a lease), so the sweep does not queue
    # a second run beside a long one; cleared when it ends.
    retarget_started_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["priority", "name"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self):
        return self.name


class TimerMetric(models.TextChoices):
    RESPONSE = "response", "Response"
    RESOLUTION = "resolution", "Resolution"


class TimerState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"
    # Stopped because the incident was cancelled before the clock was met or breached: it
    # counts in neither (a clock that had already breached stays breached).
    CANCELLED = "cancelled", "Cancelled"


class SLATimer(models.Model):
    """One clock of one incident. `due_at`/`warn_at` are stored and indexed so the Celery
    sweep finds what fell due without computing anything per row."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="sla_timers")
    metric = models.CharField(max_length=20, choices=TimerMetric.choices)
    policy = models.ForeignKey(
        SLAPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="timers"
    )
    state = models.CharField(max_length=10, choices=TimerState.choices, default=TimerState.RUNNING)
    target_minutes = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    # Still counting (running or paused): breached timers keep counting until stopped.
    is_active = models.BooleanField(default=True)
    # Copies of the incident's reporting dimensions, kept by the SLA service whenever they
    # change, so dashboards count timers by period and dimension without joining incidents.
    priority = models.CharField(max_length=2, blank=True)
    team = models.ForeignKey("org.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    service = models.ForeignKey(
        "org.Service", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer = models.ForeignKey(
        "org.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Business seconds counted up to the moment the clock last stopped (paused_at or
    # stopped_at); while the clock runs, the remaining time follows from due_at instead.
    elapsed_seconds = models.FloatField(default=0)
    # Set while an open pause holds the clock (state "paused", or "breached" and on hold).
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_cause = models.CharField(max_length=20, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "metric"], name="sla_timer_one_per_metric")
        ]
        indexes = [
            models.Index(
                fields=["due_at"], name="sla_timer_due_running", condition=models.Q(state="running")
            ),
            # Paused clocks (incidents on hold) are few: the list's sla_state=paused finds
            # them here instead of testing every incident (sla.incident_reads).
            models.Index(fields=["incident"], name="sla_timer_paused", condition=models.Q(state="paused")),
            # "At risk now" (running past the warning instant, warned or not) for the queue
            # filter and the dashboards, whatever the number of running timers.
            models.Index(
                fields=["warn_at"],
                name="sla_timer_at_risk",
                condition=models.Q(state="running"),
                include=["id", "due_at", "priority", "team", "service", "customer"],
            ),
            # Dashboards select timers by period: an index-only scan with what they count.
            models.Index(
                fields=["started_at"],
                name="sla_timer_started",
                include=[
                    "metric",
                    "policy",
                    "state",
                    "breached_at",
                    "is_active",
                    "stopped_at",
                    "priority",
                    "team",
                    "service",
                    "customer",
                ],
            ),
            # Breaches of a period (dashboard list, count and drill-down), index-only.
            models.Index(
                fields=["breached_at"],
                name="sla_timer_breached",
                include=["id", "incident", "priority", "team", "service", "customer"],
                condition=models.Q(breached_at__isnull=False),
            ),
            models.Index(
                fields=["warn_at"],
                name="sla_timer_warn_running",
                condition=models.Q(state="running", warned_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.incident_id} {self.metric} {self.state}"


class PauseCause(models.TextChoices):
    CUSTOMER = "customer", "Awaiting customer"
    VENDOR = "vendor", "Awaiting vendor"
    DEVELOPMENT = "development", "Awaiting development"
    OTHER = "other", "Other"
    # Not a pause but the clock stopped: resolved until reopened (kept so a recompute from
    # the original start leaves that stretch out). Reports of paused time skip it.
    STOPPED = "stopped", "Stopped (resolved until reopened)"


class PausePeriod(models.Model):
    """A stretch during which a timer did not count, and what it waited on."""

    timer = models.ForeignKey(SLATimer, on_delete=models.CASCADE, related_name="pauses")
    cause = models.CharField(max_length=20, choices=PauseCause.choices)
    card = models.ForeignKey(
        "boards.Card", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at"]

    def __str__(self):
        return f"{self.timer_id} paused ({self.cause})"


class SLAEventKind(models.TextChoices):
    WARNING = "warning", "Warning"
    BREACH = "breach", "Breach"


class SLAEvent(models.Model):
    """A warning or breach that fired. Unique per timer and kind: each fires exactly once."""

    timer = models.ForeignKey(SLATimer, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=SLAEventKind.choices)
    at = models.DateTimeField(help_text="The true instant (the due or warning instant), not detection time.")
    detected_at = models.DateTimeField()
    # Set when its actions (mail, escalation, major) ran; the sweep re-queues the rest.
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at"]
        constraints = [models.UniqueConstraint(fields=["timer", "kind"], name="sla_event_once_per_timer")]
        indexes = [
            models.Index(
                fields=["detected_at"],
                name="sla_event_unhandled",
                condition=models.Q(handled_at__isnull=True),
            )
        ]

    def __str__(self):
        return f"{self.timer_id} {self.kind}"

"""The period and filter controls shared by the dashboards, their drill-downs and exports."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from incidents.models import Incident, Priority
from org.models import Customer, Service, Team
from tracker.widgets import DateInput

DEFAULT_DAYS = 30
MAX_DAYS = 731
FILTER_FIELDS = ("team", "service", "customer", "priority")


class PeriodFilterForm(forms.Form):
    start = forms.DateField(label="From", required=False, widget=DateInput)
    end = forms.DateField(label="To (inclusive)", required=False, widget=DateInput)
    team = forms.ModelChoiceField(
        label="Team", queryset=Team.objects.all(), required=False, empty_label="All"
    )
    service = forms.ModelChoiceField(
        label="Service", queryset=Service.objects.all(), required=False, empty_label="All"
    )
    customer = forms.ModelChoiceField(
        label="Customer", queryset=Customer.objects.all(), required=False, empty_label="All"
    )
    priority = forms.ChoiceField(label="Priority", choices=[("", "All"), *Priority.choices], required=False)

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            self.add_error("start", "The start must be on or before the end.")
        elif (end - start).days >= MAX_DAYS:
            self.add_error("start", f"Choose at most {MAX_DAYS - 1} days.")
        data["start"], data["end"] = start, end
        return data


@dataclass(frozen=True)
class Scope:
    """A validated period (instants in the viewer's zone, end exclusive) and filters."""

    start: datetime
    end: datetime
    first_day: date
    last_day: date
    team: Team | None = None
    service: Service | None = None
    customer: Customer | None = None
    priority: str = ""

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def incidents(self, qs: QuerySet | None = None) -> QuerySet:
        """Incidents matching the filters (not the period)."""
        qs = Incident.objects.all() if qs is None else qs
        for name in ("team", "service", "customer"):
            value = getattr(self, name)
            if value is not None:
                qs = qs.filter(**{f"{name}_id": value.pk})
        if self.priority:
            qs = qs.filter(priority=self.priority)
        return qs

    def q(self, prefix: str = "") -> Q:
        """The filters as a condition on a related incident (`prefix="incident__"`), so
        timers filter through a plain join the planner can drive from an index."""
        condition = Q()
        for name in ("team", "service", "customer"):
            value = getattr(self, name)
            if value is not None:
                condition &= Q(**{f"{prefix}{name}_id": value.pk})
        if self.priority:
            condition &= Q(**{f"{prefix}priority": self.priority})
        return condition

    def created_q(self, prefix: str = "") -> Q:
        return self.q(prefix) & Q(
            **{f"{prefix}created_at__gte": self.start, f"{prefix}created_at__lt": self.end}
        )

    def query(self, **extra) -> dict:
        """The GET parameters that reproduce this scope (for links and exports)."""
        params = {"start": self.first_day.isoformat(), "end": self.last_day.isoformat()}
        for name in ("team", "service", "customer"):
            value = getattr(self, name)
            if value is not None:
                params[name] = value.pk
        if self.priority:
            params["priority"] = self.priority
        params.update({k: v for k, v in extra.items() if v not in (None, "")})
        return params

    def queue_query(self, **extra) -> dict:
        """The same filters in the incident queue's parameter names (no period there)."""
        params = {"tab": "all"}
        for name in ("team", "service", "customer"):
            value = getattr(self, name)
            if value is not None:
                params[name] = value.pk
        if self.priority:
            params["priority"] = self.priority
        params.update(extra)
        return params


def scope_from(form: PeriodFilterForm) -> Scope:
    data = form.cleaned_data
    tz = timezone.get_current_timezone()
    return Scope(
        start=datetime.combine(data["start"], time.min, tzinfo=tz),
        end=datetime.combine(data["end"] + timedelta(days=1), time.min, tzinfo=tz),
        first_day=data["start"],
        last_day=data["end"],
        team=data.get("team"),
        service=data.get("service"),
        customer=data.get("customer"),
        priority=data.get("priority") or "",
    )


def scope_for(params) -> tuple[PeriodFilterForm, Scope | None]:
    form = PeriodFilterForm(params or None)
    if not params:
        form = PeriodFilterForm({})
    if not form.is_valid():
        return form, None
    return form, scope_from(form)

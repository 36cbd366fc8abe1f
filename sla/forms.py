"""Browser forms for calendars and policies. They only shape input; the services validate
and save, and their errors are shown next to the fields."""

from django import forms

from incidents.models import HoldReason, IncidentType
from org.models import Customer, Service

from .calendar import WEEKDAYS
from .models import BusinessCalendar, SLAPolicy, default_pause_on
from .services import HOLD_REASONS

DAY_LABELS = dict(
    zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)
HOLD_LABELS = {reason.value: f"On hold {reason.label.lower()}" for reason in HoldReason}


def _hours_text(intervals) -> str:
    return ", ".join(f"{a}-{b}" for a, b in intervals or [])


def _parse_hours_text(text: str):
    """ "09:00-12:30, 13:30-17:00" -> [["09:00", "12:30"], ["13:30", "17:00"]]; the service
    checks the times themselves."""
    out = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if "-" not in part:
            raise forms.ValidationError(f"“{part}” is not an interval like 09:00-17:00.")
        start, end = (p.strip() for p in part.split("-", 1))
        out.append([start, end])
    return out


class CalendarForm(forms.Form):
    name = forms.CharField(max_length=100)
    timezone = forms.CharField(
        max_length=64, label="Time zone", help_text="IANA name, e.g. Europe/London or America/New_York."
    )
    always_open = forms.BooleanField(required=False, label="Open 24×7 (ignore hours and holidays)")
    country = forms.CharField(
        max_length=2,
        required=False,
        label="Country public holidays",
        help_text="ISO code such as GB; empty for none.",
    )
    subdivision = forms.CharField(max_length=10, required=False, help_text="Optional region, e.g. SCT.")
    holidays = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Holiday dates",
        help_text="One date per line, YYYY-MM-DD.",
    )

    def __init__(self, *args, instance: BusinessCalendar | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "timezone": instance.timezone,
                "always_open": instance.always_open,
                "country": instance.country,
                "subdivision": instance.subdivision,
                "holidays": "\n".join(instance.holidays or []),
                **{f"hours_{d}": _hours_text((instance.hours or {}).get(d)) for d in WEEKDAYS},
            }
        super().__init__(*args, **kwargs)
        for day in WEEKDAYS:
            name = f"hours_{day}"
            self.fields[name] = forms.CharField(
                required=False,
                label=DAY_LABELS[day],
                widget=forms.TextInput(attrs={"placeholder": "closed", "class": "hours"}),
            )
        self.order_fields(["name", "timezone", "always_open", *[f"hours_{d}" for d in WEEKDAYS]])

    def hours_fields(self):
        return [self[f"hours_{d}"] for d in WEEKDAYS]

    def clean(self):
        data = super().clean()
        hours = {}
        for day in WEEKDAYS:
            try:
                hours[day] = _parse_hours_text(data.get(f"hours_{day}", ""))
            except forms.ValidationError as exc:
                self.add_error(f"hours_{day}", exc)
        data["hours"] = hours
        data["holidays_list"] = [
            line.strip() for line in (data.get("holidays") or "").splitlines() if line.strip()
        ]
        return data

    def service_data(self) -> dict:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "timezone": d["timezone"],
            "always_open": d["always_open"],
            "hours": d["hours"],
            "holidays": d["holidays_list"],
            "country": d.get("country", ""),
            "subdivision": d.get("subdivision", ""),
        }

    def service_error_field(self, field: str, message: str) -> str:
        """The form field for a service message (tracker.forms.add_service_error asks): the
        service's `hours` is one field per weekday here."""
        if field == "hours":
            # Point at the weekday the message names, else at Monday's field.
            return next((f"hours_{d}" for d in WEEKDAYS if message.startswith(f"{d}:")), "hours_mon")
        return field


class PolicyForm(forms.ModelForm):
    pause_on = forms.MultipleChoiceField(
        choices=[(r, HOLD_LABELS[r]) for r in HOLD_REASONS],
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "checkbox-list"}),
        label="Pause the resolution clock when",
    )
    incident_type = forms.ChoiceField(
        choices=[("", "Any type"), *IncidentType.choices],
        required=False,
        label="Record type",
    )

    class Meta:
        model = SLAPolicy
        fields = [
            "name",
            "priority",
            "service",
            "customer",
            "incident_type",
            "calendar",
            "response_minutes",
            "resolution_minutes",
            "warn_percent",
            "pause_on",
            "notify_on_breach",
            "escalate_on_breach",
            "declare_major_on_breach",
            "active",
        ]
        labels = {
            "response_minutes": "Response target (business minutes)",
            "resolution_minutes": "Resolution target (business minutes)",
            "warn_percent": "Warn at (% of target elapsed)",
            "notify_on_breach": "On breach: notify assignee, team lead and managers",
            "escalate_on_breach": "On breach: escalate one tier",
            "declare_major_on_breach": "On breach: declare a major incident",
            "active": "Active",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.order_by("name")
        self.fields["service"].empty_label = "Any service"
        self.fields["customer"].queryset = Customer.objects.order_by("name")
        self.fields["customer"].empty_label = "Any customer"
        self.fields["calendar"].queryset = BusinessCalendar.objects.order_by("name")
        if not self.instance.pk and not self.is_bound:
            self.initial.setdefault("pause_on", default_pause_on())

    def _post_clean(self):
        # Model validation happens in the service (one place for the rules).
        pass

    def service_data(self) -> dict:
        return {f: self.cleaned_data.get(f) for f in self.Meta.fields}

from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from audit.selectors import AuditFilters, audit_model_names
from tracker.widgets import DateInput


class AuditFilterForm(forms.Form):
    model = forms.ChoiceField(label="What", required=False)
    actor = forms.ModelChoiceField(label="Who", required=False, queryset=get_user_model().objects.none())
    object_id = forms.CharField(label="Object id", required=False, max_length=40)
    since = forms.DateField(label="From", required=False, widget=DateInput)
    until = forms.DateField(
        label="To (inclusive)",
        required=False,
        widget=DateInput,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", "Everything"), *((m, m) for m in audit_model_names())]
        self.fields["actor"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name", "username")
        )
        self.fields["actor"].label_from_instance = lambda u: u.get_full_name() or u.get_username()

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end date is before the start date.")
        return data

    def filters(self) -> AuditFilters:
        """The filters in the viewer's zone: whole days from `since` to `until` inclusive."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        zone = timezone.get_current_timezone()

        def start_of(day):
            return timezone.make_aware(datetime.combine(day, time.min), zone) if day else None

        until = data.get("until")
        return AuditFilters(
            model=data.get("model") or "",
            object_id=data.get("object_id") or "",
            actor=data["actor"].pk if data.get("actor") else None,
            since=start_of(data.get("since")),
            until=start_of(until + timedelta(days=1)) if until else None,
        )

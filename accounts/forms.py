import zoneinfo

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from .models import User
from .throttling import clear_login_failures, login_blocked, record_login_failure


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed sign-in attempts. Wait a few minutes and try again.",
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        if login_blocked(self.request, username):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            record_login_failure(self.request, username)
            raise
        clear_login_failures(self.request, username)
        return cleaned


def _time_zone_choices():
    return [("", "Server default (UTC)")] + [(name, name) for name in sorted(zoneinfo.available_timezones())]


class ProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(choices=_time_zone_choices, required=False, label="Time zone")

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "time_zone"]

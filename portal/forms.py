"""The portal's forms: they parse and show what the customer typed; the rules are the
services' (portal.services, org.services.access)."""

import zoneinfo

from django import forms
from django.contrib.auth.forms import PasswordResetForm

from accounts.forms import ThrottledAuthenticationForm
from incidents.models import IncidentType
from org.permissions import portal_contact_of

from .selectors import portal_services


class PortalLoginForm(ThrottledAuthenticationForm):
    """Staff sign-in's form and throttle (the same failure counters), e-mail as username."""

    username = forms.CharField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True, "inputmode": "email"}),
    )
    error_messages = {
        **ThrottledAuthenticationForm.error_messages,
        "invalid_login": "That e-mail address and password do not match. Passwords are case-sensitive.",
        "staff": "This sign-in is for customers. Staff sign in to Tandem itself.",
    }

    def clean_username(self):
        return (self.cleaned_data.get("username") or "").strip().lower()

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if portal_contact_of(user) is None:
            raise forms.ValidationError(self.error_messages["staff"], code="staff")


def _time_zones():
    return [("", "UTC")] + [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class ActivationForm(forms.Form):
    password = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not only digits, nor close to your name or address.",
    )
    password_again = forms.CharField(
        label="The same password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    time_zone = forms.ChoiceField(
        label="Your time zone",
        choices=_time_zones,
        required=False,
        help_text="Times are shown to you in this zone.",
        widget=forms.Select(attrs={"data-detect-zone": "1"}),
    )


class AccountForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Your time zone",
        choices=_time_zones,
        required=False,
        widget=forms.Select(attrs={"data-detect-zone": "1"}),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class RequestForm(forms.Form):
    type = forms.ChoiceField(
        label="What is it?",
        choices=[
            (IncidentType.INCIDENT, "Something is broken or not working"),
            (IncidentType.SERVICE_REQUEST, "I need something (a request)"),
        ],
        initial=IncidentType.INCIDENT,
        widget=forms.RadioSelect,
    )
    service = forms.ModelChoiceField(
        label="Which service?",
        queryset=portal_services(),
        empty_label="Choose a service",
        error_messages={
            "required": "Choose the service it is about.",
            "invalid_choice": "Choose a service from the list.",
        },
    )
    title = forms.CharField(
        label="Summary",
        max_length=200,
        error_messages={"required": "Give it a short summary."},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    description = forms.CharField(
        label="Details",
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Tell us what happened (or what you need)."},
        help_text="What you did, what you expected, what happened instead.",
    )
    attachments = MultipleFileField(label="Screenshots or files", required=False)


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your reply",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Write your reply first."},
    )
    attachments = MultipleFileField(label="Add files", required=False)


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label="How did we do?",
        coerce=int,
        choices=[(5, "5 — Excellent"), (4, "4 — Good"), (3, "3 — OK"), (2, "2 — Poor"), (1, "1 — Very poor")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a score from 1 to 5."},
    )
    comment = forms.CharField(
        label="Anything to add? (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class PortalPasswordResetForm(PasswordResetForm):
    """Django's reset form for portal accounts only; the mail goes out by Celery after the
    request (portal.tasks), so a slow or failing mail server neither delays the page nor
    tells anyone whether the address has an account."""

    def get_users(self, email):
        return [u for u in super().get_users(email) if portal_contact_of(u) is not None]

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        from django.template import loader

        from tracker.tasks import enqueue

        from .tasks import portal_mail_send

        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        html = loader.render_to_string(html_email_template_name, context) if html_email_template_name else ""
        enqueue(portal_mail_send, subject, body, html, to_email)

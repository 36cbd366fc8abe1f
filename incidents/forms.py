"""Browser forms. They parse and label input; the rules are in incidents.services."""

from typing import cast

from django import forms
from django.urls import reverse_lazy

from accounts.models import User
from org.models import Contact, Customer, Service, Team

from .models import HoldReason, Incident, IncidentType, Level, Priority, ResolutionCode
from .selectors import related_objects  # cards and releases are the boards app's

BLANK = [("", "—")]


class IncidentCreateForm(forms.Form):
    title = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs={"autofocus": True, "placeholder": "What is broken, in a few words"}),
        error_messages={"required": "Give the incident a short title."},
    )
    service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"),
        empty_label="Choose a service…",
        error_messages={
            "required": "Choose the affected service.",
            "invalid_choice": "That service does not exist (any more); choose another.",
        },
    )
    type = forms.ChoiceField(choices=IncidentType.choices, initial=IncidentType.INCIDENT)
    impact = forms.ChoiceField(
        choices=Level.choices, initial=Level.MEDIUM, help_text="How many are affected, how badly."
    )
    urgency = forms.ChoiceField(choices=Level.choices, initial=Level.MEDIUM, help_text="How soon it hurts.")
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.order_by("name"), required=False, empty_label="No customer / internal"
    )
    # Free text kept with the incident (a phone number, when to call); e-mail goes to the
    # requester and the copies below.
    contact = forms.CharField(
        max_length=200,
        required=False,
        label="Contact notes",
        help_text="A phone number, when to call. Replies are e-mailed to the requester and copies.",
    )
    # The requester: found as you type (requester_search asks customers:contact_search), or
    # a new contact by name and address; copies by address. See org.services.contacts_for_incident.
    requester = forms.ModelChoiceField(
        queryset=Contact.objects.select_related("customer"), required=False, widget=forms.HiddenInput
    )
    requester_search = forms.CharField(
        required=False,
        label="Requester",
        help_text="Type a name or e-mail address to find the contact.",
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "placeholder": "Name or e-mail",
                "hx-get": reverse_lazy("customers:contact_search"),
                "hx-trigger": "input changed delay:250ms, search",
                "hx-target": "#contact-results",
                "hx-include": "[name=customer]",
            }
        ),
    )
    new_contact_name = forms.CharField(max_length=150, required=False, label="New contact: name")
    new_contact_email = forms.EmailField(max_length=254, required=False, label="New contact: e-mail")
    cc = forms.CharField(
        max_length=2000,
        required=False,
        label="Copies (e-mail addresses)",
        help_text="Comma-separated; unknown addresses become contacts of the customer.",
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "Steps, error messages, who is affected…"}),
    )


class VersionedForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented recipe); sizes are checked by
    incidents.attachments, the same for the browser, the API and e-mail."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class CommentForm(forms.Form):
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 4}))
    files = MultipleFileField(  # type: ignore[assignment]  # a field named files (the metaclass moves it off the class)
        required=False,
        label="Attach files",
        help_text="Choose files, drop them here, or paste a screenshot into the message.",
    )
    visibility = forms.ChoiceField(
        choices=[("public", "Public reply to the customer"), ("internal", "Internal work note")],
        initial="public",
        widget=forms.RadioSelect,
        label="Visible to",
    )


class HoldForm(VersionedForm):
    reason = forms.ChoiceField(choices=BLANK + HoldReason.choices, label="Waiting on")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Note")


class ResolveForm(VersionedForm):
    resolution_code = forms.ChoiceField(choices=BLANK + ResolutionCode.choices, label="Resolution code")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Resolution note")


class CancelForm(VersionedForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Why cancel?")


class NoteOnlyForm(VersionedForm):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Note (optional)")


class EmptyForm(VersionedForm):
    pass


class AssignForm(VersionedForm):
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Unassigned")

    def __init__(self, *args, incident: Incident, **kwargs):
        super().__init__(*args, **kwargs)
        ids = set(incident.team.members.values_list("pk", flat=True)) | {
            u.pk for u in incident.participants.all()
        }
        assignee = cast(forms.ModelChoiceField, self.fields["assignee"])
        assignee.queryset = User.objects.filter(pk__in=ids, is_active=True).order_by("first_name", "username")


class TeamChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Team) -> str:
        return f"{obj.name} (tier {obj.tier})"


class EscalateForm(VersionedForm):
    team = TeamChoiceField(queryset=Team.objects.none(), empty_label="Choose a team…", label="To team")
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Hand-over note",
        help_text="What you found and tried; the next team reads this first.",
    )

    def __init__(self, *args, incident: Incident, **kwargs):
        super().__init__(*args, **kwargs)
        team = cast(forms.ModelChoiceField, self.fields["team"])
        team.queryset = Team.objects.exclude(pk=incident.team_id).order_by("tier", "name")


class TimeForm(forms.Form):
    minutes = forms.IntegerField(min_value=1, max_value=24 * 60, label="Minutes spent")
    note = forms.CharField(max_length=300, required=False, label="On what")


class PriorityForm(VersionedForm):
    priority = forms.ChoiceField(choices=Priority.choices, label="New priority")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Reason for the override")


class MajorForm(forms.Form):
    note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Why (for the managers)"
    )


class _IncidentKeyField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        found = Incident.objects.filter(key__iexact=value.strip()).first()
        if found is None:
            raise forms.ValidationError(f"No incident {value.strip().upper()}.")
        return found


class MergeForm(forms.Form):
    parent = _IncidentKeyField(
        label="Duplicate of (key)", widget=forms.TextInput(attrs={"placeholder": "INC-1042"})
    )
    note = forms.CharField(required=False, label="Note (optional)")


class LinkCauseForm(forms.Form):
    card = forms.CharField(
        required=False, label="Caused by card (key)", widget=forms.TextInput(attrs={"placeholder": "DEV-311"})
    )
    release = forms.ModelChoiceField(
        queryset=related_objects("caused_by_release").select_related("board"),
        required=False,
        label="Caused by release",
    )

    def clean_card(self):
        key = (self.cleaned_data.get("card") or "").strip()
        if not key:
            return None
        card = related_objects("caused_by_card").filter(key__iexact=key).first()
        if card is None:
            raise forms.ValidationError(f"No card {key.upper()}.")
        return card

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("card") and not data.get("release"):
            raise forms.ValidationError("Give a card key or choose a release.")
        return data

from django import forms

from .models import Event


class SubscriptionForm(forms.Form):
    url = forms.URLField(max_length=500, label="Receiver URL", assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=Event.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )
    description = forms.CharField(max_length=200, required=False)

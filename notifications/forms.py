from django import forms

from .models import Kind


class EmailPreferencesForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label="E-mail me when",
        choices=Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="You always see every notification in Tandem; these also arrive by e-mail.",
    )

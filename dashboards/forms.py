from django import forms

from boards.models import Board
from org.models import Team


class DeliveryFilterForm(forms.Form):
    team = forms.ModelChoiceField(
        label="Development team",
        queryset=Team.objects.filter(is_development=True),
        required=False,
        empty_label="First development team",
    )
    board = forms.ModelChoiceField(
        label="Board", queryset=Board.objects.all(), required=False, empty_label="The team's board"
    )
    days = forms.IntegerField(
        label="Flow window (days)", min_value=7, max_value=365, required=False, initial=42
    )

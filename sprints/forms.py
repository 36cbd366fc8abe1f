"""Browser forms for sprints: they parse and label input; the rules live in the services."""

from typing import cast

from django import forms

from accounts.models import User
from boards.models import Board
from org.models import CapacityUnit, Team, TeamSupportModel
from tracker.widgets import DateInput

from .models import Sprint


class SprintForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.filter(is_development=True).order_by("name"))
    name = forms.CharField(max_length=100)
    goal = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    start = forms.DateField(label="First day", widget=DateInput)
    end = forms.DateField(
        label="Last day",
        required=False,
        widget=DateInput,
        help_text="Empty: the team's sprint length from the first day.",
    )
    board = forms.ModelChoiceField(
        queryset=Board.objects.order_by("name"),
        required=False,
        help_text="The board whose cards this sprint plans.",
    )


class SprintEditForm(forms.Form):
    name = forms.CharField(max_length=100)
    goal = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    start = forms.DateField(label="First day", widget=DateInput)
    end = forms.DateField(label="Last day", widget=DateInput)
    board = forms.ModelChoiceField(queryset=Board.objects.order_by("name"), required=False)
    support_member = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="On support",
        help_text="Rotation: this member's whole capacity goes to support work this sprint.",
    )

    def __init__(self, *args, sprint: Sprint, **kwargs):
        super().__init__(*args, **kwargs)
        cast(
            "forms.ModelChoiceField[User]", self.fields["support_member"]
        ).queryset = sprint.team.members.order_by("username")
        cast("forms.ModelChoiceField[Board]", self.fields["board"]).queryset = sprint.team.boards.order_by(
            "name"
        )


class SprintCloseForm(forms.Form):
    carry_over_to = forms.ModelChoiceField(
        queryset=Sprint.objects.none(),
        required=False,
        label="Unfinished cards go to",
        empty_label="the product backlog",
    )

    def __init__(self, *args, sprint: Sprint, choices, **kwargs):
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[Sprint]", self.fields["carry_over_to"]).queryset = Sprint.objects.filter(
            pk__in=[s.pk for s in choices]
        )


class MemberForm(forms.Form):
    days_off = forms.DecimalField(label="Days off", min_value=0, max_digits=4, decimal_places=1)
    hours_per_day = forms.DecimalField(label="Hours per day", min_value=0, max_digits=4, decimal_places=1)
    focus_factor = forms.DecimalField(
        label="Focus factor", min_value=0, max_value=1, max_digits=3, decimal_places=2
    )


class TeamSettingsForm(forms.Form):
    capacity_unit = forms.ChoiceField(choices=CapacityUnit.choices)
    sprint_length_days = forms.IntegerField(label="Sprint length (days)", min_value=1, max_value=60)
    support_allocation_percent = forms.IntegerField(
        label="Support allocation (%)",
        min_value=0,
        max_value=100,
        help_text="Share of capacity reserved for unplanned support work (shared model).",
    )
    support_model = forms.ChoiceField(choices=TeamSupportModel.choices)
    estimate_P1 = forms.DecimalField(label="Default estimate, P1", required=False, min_value=0)
    estimate_P2 = forms.DecimalField(label="Default estimate, P2", required=False, min_value=0)
    estimate_P3 = forms.DecimalField(label="Default estimate, P3", required=False, min_value=0)
    estimate_P4 = forms.DecimalField(label="Default estimate, P4", required=False, min_value=0)
    estimate_P5 = forms.DecimalField(label="Default estimate, P5", required=False, min_value=0)
    auto_resolve_on_done = forms.BooleanField(
        required=False,
        label="Resolve linked incidents when their card is done",
    )

    PRIORITY_FIELDS = ("estimate_P1", "estimate_P2", "estimate_P3", "estimate_P4", "estimate_P5")

    @classmethod
    def initial_for(cls, team: Team):
        initial = {
            "capacity_unit": team.capacity_unit,
            "sprint_length_days": team.sprint_length_days,
            "support_allocation_percent": team.support_allocation_percent,
            "support_model": team.support_model,
            "auto_resolve_on_done": team.auto_resolve_on_done,
        }
        for key, value in (team.default_estimates or {}).items():
            initial[f"estimate_{key}"] = value
        return initial

    def service_values(self):
        data = dict(self.cleaned_data)
        data["default_estimates"] = {
            name.removeprefix("estimate_"): data.pop(name) for name in self.PRIORITY_FIELDS if name in data
        }
        data["default_estimates"] = {k: v for k, v in data["default_estimates"].items() if v is not None}
        return data

"""Browser forms of problems. They parse and label input; the rules are in problems.services."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from accounts.models import User
from boards.models import Card, ColumnCategory
from incidents.models import Incident
from org.models import Service, Team

from .models import Problem, ProblemStatus
from .services import RESOLUTION_CODES

KEYS = re.compile(r"[A-Za-z]+-\d+")


def staff_users() -> Any:
    return (
        User.objects.filter(is_active=True, groups__isnull=False)
        .distinct()
        .order_by("first_name", "username")
    )


class IncidentKeysField(forms.CharField):
    """Incidents named by key ("INC-1001, INC-1002"), or by id when the queue preselects them."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "Incident keys, separated by commas or spaces (INC-1042, REQ-77).")
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[Incident]:  # type: ignore[override]
        text = super().clean(value) or ""
        keys = [k.upper() for k in KEYS.findall(text)]
        leftover = KEYS.sub("", text).replace(",", " ").split()
        if leftover:
            raise forms.ValidationError(f"Not an incident key: {', '.join(leftover[:5])}.")
        found = {i.key: i for i in Incident.objects.filter(key__in=keys).select_related("service")}
        missing = [k for k in keys if k not in found]
        if missing:
            raise forms.ValidationError(f"No incident {', '.join(missing)}.")
        return [found[k] for k in dict.fromkeys(keys)]


class ProblemCreateForm(forms.Form):
    title = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs={"autofocus": True, "placeholder": "The cause, or the shared symptom"}),
        error_messages={"required": "Give the problem a short title."},
    )
    service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"),
        required=False,
        empty_label="The incidents' service",
        help_text="New incidents on this service are offered the problem's workaround.",
    )
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Nobody yet")
    incidents = IncidentKeysField(label="Incidents")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)
    workaround = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Known already? With a workaround the problem is a known error at once.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_users()  # type: ignore[attr-defined]


class ProblemEditForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    title = forms.CharField(max_length=200, error_messages={"required": "Give the problem a short title."})
    service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"), required=False, empty_label="—"
    )
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Nobody yet")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    root_cause = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="What really went wrong, once known.",
    )
    workaround = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Shown on every linked incident and offered to the desk for similar new ones. "
        "With a workaround the problem is a known error; clear it if it no longer holds.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_users()  # type: ignore[attr-defined]

    @classmethod
    def for_problem(cls, problem: Problem) -> ProblemEditForm:
        return cls(
            initial={
                "version": problem.version,
                "title": problem.title,
                "service": problem.service_id,
                "owner": problem.owner_id,
                "description": problem.description,
                "root_cause": problem.root_cause,
                "workaround": problem.workaround,
            }
        )


class TransitionForm(forms.Form):
    status = forms.ChoiceField(choices=ProblemStatus.choices)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class LinkForm(forms.Form):
    incidents = IncidentKeysField(label="Link incidents", required=True)


class LinkToProblemForm(forms.Form):
    """From an incident's page: the problem to group it under."""

    problem = forms.ModelChoiceField(
        queryset=Problem.objects.none(),
        empty_label="Choose a problem…",
        error_messages={
            "required": "Choose the problem.",
            "invalid_choice": "That problem takes no incidents now.",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from .selectors import problem_choices

        super().__init__(*args, **kwargs)
        field = self.fields["problem"]
        field.queryset = problem_choices()  # type: ignore[attr-defined]
        field.label_from_instance = lambda p: f"{p.key} {p.title}"  # type: ignore[attr-defined]


class EscalateProblemForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.filter(is_development=True), label="Development team")
    card = forms.ModelChoiceField(
        queryset=Card.objects.none(),
        required=False,
        empty_label="Create a new production defect card",
        help_text="Or link an open card that already covers this defect.",
    )
    estimate = forms.DecimalField(
        min_value=0, max_value=1000, decimal_places=1, required=False, help_text="Empty: the team's default."
    )
    into_sprint = forms.BooleanField(
        required=False,
        label="Put it into the current sprint",
        help_text="A problem with a P1/P2 incident always goes into the active sprint; others go to the "
        "backlog unless ticked.",
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="What development needs to know beyond the description, root cause and workaround.",
    )

    def __init__(self, *args: Any, team: Team | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if team is not None:
            self.fields["team"].initial = team.pk
        team_id = self.data.get("team") or (team.pk if team else None)
        field = self.fields["card"]
        field.queryset = (  # type: ignore[attr-defined]
            Card.objects.filter(board__teams=team_id, cancelled_at__isnull=True)
            .exclude(column__category=ColumnCategory.DONE)
            .order_by("-created_at")[:100]
            if team_id and str(team_id).isdigit()
            else Card.objects.none()
        )
        field.label_from_instance = lambda c: f"{c.key} {c.title}"  # type: ignore[attr-defined]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "team": data["team"],
            "card": data.get("card"),
            "estimate": data.get("estimate"),
            "into_sprint": True if data.get("into_sprint") else None,
            "note": data.get("note", ""),
        }


class ResolveForm(forms.Form):
    root_cause = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="What went wrong: kept on the problem."
    )
    resolution_code = forms.ChoiceField(
        choices=[(c.value, c.label) for c in RESOLUTION_CODES],
        initial=RESOLUTION_CODES[0],
        label="Resolve incidents as",
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Resolution note for the customers",
        help_text="Each chosen incident is resolved with this note; its requester gets the resolution "
        "e-mail.",
    )
    incidents = forms.ModelMultipleChoiceField(
        queryset=Incident.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, open_incidents: list[Incident], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["incidents"]
        field.queryset = Incident.objects.filter(pk__in=[i.pk for i in open_incidents])  # type: ignore[attr-defined]
        field.label_from_instance = lambda i: f"{i.key} {i.title}"  # type: ignore[attr-defined]

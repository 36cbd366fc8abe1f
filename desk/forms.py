"""Browser forms of the desk: saving and editing a view, and the queue's bulk bar. They parse
and label input; the rules are in desk.services."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict

from accounts.models import User
from incidents.models import HoldReason, ResolutionCode, Status
from org.models import Team
from problems.models import Problem

from .models import SavedView
from .services import ACTION_LABELS, MAX_INCIDENTS, BulkAction

NAME_MAX = SavedView._meta.get_field("name").max_length


class TeamChoice(forms.ModelChoiceField):
    def __init__(self, queryset: QuerySet[Team], **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("empty_label", "Only me (personal)")
        kwargs.setdefault("label", "Share with")
        super().__init__(queryset=queryset, **kwargs)


def share_choices(user: User, *, include: Team | None = None, manager: bool = False) -> QuerySet[Team]:
    """Teams a view may be shared with from this form: the user's own (a manager's: all),
    and the one it is shared with now."""
    if manager:
        return Team.objects.order_by("name")
    qs = Team.objects.filter(members=user)
    if include is not None:
        qs = Team.objects.filter(pk__in=[*qs.values_list("pk", flat=True), include.pk])
    return qs.order_by("name")


class SaveViewForm(forms.Form):
    """'Save this view' on the queue: a name, whom to share it with, the queue's filters."""

    name = forms.CharField(
        max_length=NAME_MAX,
        label="View name",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Contoso, this week"}),
        error_messages={"required": "Give the view a name."},
    )
    team = TeamChoice(Team.objects.none())
    query = forms.CharField(required=False, widget=forms.HiddenInput)
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, teams: QuerySet[Team] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["team"]).queryset = (
            teams if teams is not None else Team.objects.none()
        )


class SavedViewEditForm(forms.Form):
    """Rename, share or unshare, on the views page."""

    name = forms.CharField(
        max_length=NAME_MAX, label="Name", error_messages={"required": "Give the view a name."}
    )
    team = TeamChoice(Team.objects.none())

    def __init__(self, *args: Any, teams: QuerySet[Team] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["team"]).queryset = (
            teams if teams is not None else Team.objects.none()
        )


class BulkForm(forms.Form):
    """The queue's bulk bar. The selected rows' checkboxes send "id:version" (the version the
    queue showed, so an incident changed meanwhile is reported, not overwritten)."""

    incidents = forms.MultipleChoiceField(
        required=False, error_messages={"invalid_choice": "Select incidents from the queue."}
    )
    action = forms.ChoiceField(
        label="Action",
        choices=[],
        error_messages={"required": "Choose what to do with the selected incidents."},
    )
    assignee = forms.ChoiceField(label="Assign to", required=False)
    status = forms.ChoiceField(label="New status", required=False, choices=[("", "—"), *Status.choices])
    hold_reason = forms.ChoiceField(
        label="Waiting on", required=False, choices=[("", "—"), *HoldReason.choices]
    )
    resolution_code = forms.ChoiceField(
        label="Resolution code", required=False, choices=[("", "—"), *ResolutionCode.choices]
    )
    cancel_reason = forms.CharField(label="Why cancelled", required=False, max_length=500)
    note = forms.CharField(
        label="Internal note",
        required=False,
        max_length=10_000,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": "Optional with assign; the resolution note when resolving"}
        ),
    )
    problem = forms.ChoiceField(label="Problem", required=False)
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        assignees: list[User] | None = None,
        problems: list[Problem] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choice = cast("dict[str, forms.ChoiceField]", self.fields)
        choice["problem"].choices = [("", "—"), *((str(p.pk), f"{p.key} {p.title}") for p in problems or [])]
        choice["action"].choices = [("", "Choose an action…"), *ACTION_LABELS.items()]
        people = [(str(u.pk), u.display_name) for u in assignees or []]
        choice["assignee"].choices = [("", "—"), ("me", "Me"), ("none", "Nobody (unassign)"), *people]
        # Any "id:version" is accepted here; desk.services refuses unknown ids one by one.
        choice["incidents"].choices = [(v, v) for v in self.picked_values()]

    def picked_values(self) -> list[str]:
        """The ticked rows' "id:version" values as sent."""
        return [str(v) for v in self.data.getlist("incidents")] if isinstance(self.data, QueryDict) else []

    def clean_incidents(self) -> dict[int, int | None]:
        picked: dict[int, int | None] = {}
        for value in self.cleaned_data["incidents"]:
            pk, _, version = str(value).partition(":")
            if not pk.isdigit() or (version and not version.isdigit()):
                raise forms.ValidationError("Select incidents from the queue.")
            picked[int(pk)] = int(version) if version else None
        if not picked:
            raise forms.ValidationError("Select at least one incident (tick its box in the queue).")
        if len(picked) > MAX_INCIDENTS:
            raise forms.ValidationError(f"Select at most {MAX_INCIDENTS} incidents at a time.")
        return picked

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == BulkAction.ASSIGN and not data.get("assignee"):
            self.add_error("assignee", "Choose whom to assign them to.")
        if data.get("action") == BulkAction.LINK_PROBLEM and not data.get("problem"):
            self.add_error("problem", "Choose the problem to link them to.")
        return data

    def service_error_field(self, field: str, message: str) -> str:
        """The service names the transition's reason `reason`: a hold's or a cancellation's."""
        if field == "reason":
            return "hold_reason" if self.cleaned_data.get("status") == Status.ON_HOLD else "cancel_reason"
        return field

"""Browser forms for boards and cards. They parse and label input; the rules live in
boards.services."""

from typing import cast

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts.roles import Role
from org.models import Team
from tracker.widgets import DateInput

from . import hooks
from .models import (
    Board,
    Card,
    CardType,
    ClassOfService,
    Column,
    ColumnCategory,
    Lane,
    LaneKind,
    ReasonCode,
    ReasonKind,
    Release,
)


def _choices(form: forms.BaseForm, name: str) -> forms.ModelChoiceField:  # type: ignore[type-arg]
    """The form's model choice field `name`, typed as one (a form's fields are plain Fields)."""
    return cast(forms.ModelChoiceField, form.fields[name])  # type: ignore[type-arg]


def _board_users():
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[Role.DEVELOPER, Role.PRODUCT_OWNER, Role.MANAGER])
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.display_name


class CardCreateForm(forms.Form):
    title = forms.CharField(max_length=200, label="Title")
    type = forms.ChoiceField(choices=CardType.choices, initial=CardType.STORY, label="Type")
    lane = forms.ModelChoiceField(
        queryset=Lane.objects.none(), label="Lane", required=False, empty_label="Default"
    )
    column = forms.ModelChoiceField(
        queryset=Column.objects.none(), label="Column", required=False, empty_label="Default (by policy)"
    )
    estimate = forms.DecimalField(
        max_digits=6, decimal_places=1, min_value=0, required=False, label="Estimate"
    )

    def __init__(self, *args, board, **kwargs):
        super().__init__(*args, **kwargs)
        _choices(self, "lane").queryset = Lane.objects.filter(board=board)
        _choices(self, "column").queryset = Column.objects.filter(board=board)


class CardEditForm(forms.Form):
    title = forms.CharField(max_length=200, label="Title")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, label="Description"
    )
    type = forms.ChoiceField(choices=CardType.choices, label="Type")
    class_of_service = forms.ChoiceField(choices=ClassOfService.choices, label="Class of service")
    estimate = forms.DecimalField(
        max_digits=6, decimal_places=1, min_value=0, required=False, label="Estimate"
    )
    assignee = UserChoiceField(queryset=get_user_model().objects.none(), required=False, label="Assignee")
    # The queryset is the board's sprints, set in __init__ through the planning port (boards
    # name no model of the sprints app), so the field's model is unknown to the checker.
    sprint = forms.ModelChoiceField(  # type: ignore[var-annotated]
        queryset=None, required=False, label="Sprint", empty_label="No sprint"
    )
    release = forms.ModelChoiceField(queryset=Release.objects.none(), required=False, label="Release")
    due_date = forms.DateField(required=False, label="Due date", widget=DateInput)
    reason = forms.CharField(
        max_length=300,
        required=False,
        label="Reason for a sprint or estimate change",
        help_text="Logged with the sprint's scope change when the sprint has started.",
    )

    def __init__(self, *args, card: Card, **kwargs):
        if not args and "data" not in kwargs:
            kwargs.setdefault(
                "initial",
                {
                    "title": card.title,
                    "description": card.description,
                    "type": card.type,
                    "class_of_service": card.class_of_service,
                    "estimate": card.estimate,
                    "assignee": card.assignee_id,
                    "sprint": card.sprint_id,
                    "release": card.release_id,
                    "due_date": card.due_date,
                },
            )
        super().__init__(*args, **kwargs)
        _choices(self, "assignee").queryset = _board_users()
        _choices(self, "sprint").queryset = hooks.sprint_planning().sprints_for_board(
            board=card.board, open_only=True
        )
        _choices(self, "release").queryset = Release.objects.filter(board=card.board)


class WipOverrideForm(forms.Form):
    """The WIP override shared by the Move form and the pull form (and, in the board's
    dialog, by drag and drop and the Pull button): a reason code and an optional note."""

    override_reason = forms.ModelChoiceField(
        queryset=ReasonCode.objects.none(),
        required=False,
        label="WIP override reason",
        help_text="Needed only when the move would exceed a column's or lane's WIP maximum.",
    )
    override_note = forms.CharField(
        max_length=250,
        required=False,
        label="Override note",
        help_text="Optional: why this cannot wait. Kept with the move.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _choices(self, "override_reason").queryset = ReasonCode.objects.filter(
            kind=ReasonKind.WIP_OVERRIDE, active=True
        )


class CardMoveForm(WipOverrideForm):
    column = forms.ModelChoiceField(queryset=Column.objects.none(), label="Column", empty_label=None)
    lane = forms.ModelChoiceField(queryset=Lane.objects.none(), label="Lane", empty_label=None)
    position = forms.IntegerField(
        min_value=0,
        required=False,
        label="Position in the cell",
        help_text="0 is the top; empty: the bottom.",
    )
    unblock = forms.BooleanField(
        required=False,
        label="Unblock it with the move",
        help_text="A blocked card reaches a done column only when the move unblocks it.",
    )
    field_order = ["column", "lane", "position", "override_reason", "override_note", "unblock"]

    def __init__(self, *args, card: Card, **kwargs):
        kwargs.setdefault("initial", {"column": card.column_id, "lane": card.lane_id})
        super().__init__(*args, **kwargs)
        _choices(self, "column").queryset = Column.objects.filter(board_id=card.board_id)
        _choices(self, "lane").queryset = Lane.objects.filter(board_id=card.board_id)


class CardPullForm(WipOverrideForm):
    pass


class CardBlockForm(forms.Form):
    reason = forms.ModelChoiceField(
        queryset=ReasonCode.objects.filter(kind=ReasonKind.BLOCK, active=True), label="Block reason"
    )
    note = forms.CharField(max_length=500, required=False, label="Note")


# ------------------------------------------------------------------ board layout
DEFAULT_COLUMNS = (
    ("Backlog", ColumnCategory.BACKLOG, None, None),
    ("Ready", ColumnCategory.READY, None, 8),
    ("In progress", ColumnCategory.IN_PROGRESS, 1, 4),
    ("Review", ColumnCategory.IN_PROGRESS, None, 3),
    ("Done", ColumnCategory.DONE, None, None),
)
DEFAULT_LANES = (("Expedite", LaneKind.EXPEDITE, 1), ("Standard", LaneKind.STANDARD, None))
COLUMN_ROWS, LANE_ROWS = 8, 4


def _limit(label):
    return forms.IntegerField(min_value=0, required=False, label=label)


class BoardForm(forms.Form):
    name = forms.CharField(max_length=100, label="Name")
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.filter(is_development=True).order_by("name"),
        required=False,
        label="Development teams",
        widget=forms.CheckboxSelectMultiple,
        help_text="The teams that work from this board (their sprints, escalations and capacity).",
    )

    def __init__(self, *args, board=None, **kwargs):
        super().__init__(*args, **kwargs)
        if board is not None:
            # Teams the board already has stay offered (the API accepts any team).
            _choices(self, "teams").queryset = (
                Team.objects.filter(Q(is_development=True) | Q(boards=board)).distinct().order_by("name")
            )


class BoardCreateForm(BoardForm):
    key_prefix = forms.RegexField(
        regex=r"^[A-Z][A-Z0-9]{0,9}$",
        label="Card key prefix",
        initial="DEV",
        help_text="Card keys read PREFIX-123: capitals and digits, starting with a letter.",
        error_messages={"invalid": "Use capitals and digits, starting with a letter (at most 10)."},
    )


class ColumnRowForm(forms.Form):
    """One workflow step of a board being created; an empty name skips the row."""

    name = forms.CharField(max_length=60, required=False, label="Column")
    category = forms.ChoiceField(choices=ColumnCategory.choices, label="Category")
    wip_min = _limit("WIP min")
    wip_max = _limit("WIP max")


class LaneRowForm(forms.Form):
    name = forms.CharField(max_length=60, required=False, label="Lane")
    kind = forms.ChoiceField(choices=LaneKind.choices, label="Kind")
    wip_max = _limit("WIP max in progress")


ColumnRows = forms.formset_factory(ColumnRowForm, extra=0)
# A row left as prefilled is still a row: never skip validating it as "unchanged".
_EVERY_ROW_CHECKED = {"empty_permitted": False}
LaneRows = forms.formset_factory(LaneRowForm, extra=0)


def column_rows(data=None):
    initial = [{"name": n, "category": c, "wip_min": lo, "wip_max": hi} for n, c, lo, hi in DEFAULT_COLUMNS]
    initial += [{"category": ColumnCategory.IN_PROGRESS}] * (COLUMN_ROWS - len(initial))
    return ColumnRows(data, initial=initial, prefix="col", form_kwargs=_EVERY_ROW_CHECKED)


def lane_rows(data=None):
    initial = [{"name": n, "kind": k, "wip_max": m} for n, k, m in DEFAULT_LANES]
    initial += [{"kind": LaneKind.STANDARD}] * (LANE_ROWS - len(initial))
    return LaneRows(data, initial=initial, prefix="lane", form_kwargs=_EVERY_ROW_CHECKED)


def filled(formset) -> list[dict]:
    """The rows the user filled in (a name given), in order."""
    return [dict(f.cleaned_data) for f in formset.forms if f.cleaned_data.get("name", "").strip()]


class ColumnEditForm(forms.Form):
    name = forms.CharField(max_length=60, label="Name")
    wip_min = _limit("WIP min")
    wip_max = _limit("WIP max")


class LaneEditForm(forms.Form):
    name = forms.CharField(max_length=60, label="Name")
    wip_max = _limit("WIP max in progress")


class ColumnAddForm(forms.Form):
    name = forms.CharField(max_length=60, label="Name")
    category = forms.ChoiceField(choices=ColumnCategory.choices, label="Category")
    position = forms.TypedChoiceField(coerce=int, label="Place", required=False, empty_value=None)
    wip_min = _limit("WIP min")
    wip_max = _limit("WIP max")

    def __init__(self, *args, board, **kwargs):
        super().__init__(*args, **kwargs)
        columns = list(board.columns.order_by("position", "id").values_list("name", flat=True))
        self.fields["position"].choices = [("", "At the end")] + [
            (i, f"Before “{name}”") for i, name in enumerate(columns)
        ]


class LaneAddForm(forms.Form):
    name = forms.CharField(max_length=60, label="Name")
    kind = forms.ChoiceField(choices=LaneKind.choices, label="Kind", initial=LaneKind.STANDARD)
    wip_max = _limit("WIP max in progress")


class ReleaseCreateForm(forms.Form):
    board = forms.ModelChoiceField(queryset=Board.objects.order_by("name"), label="Board")
    name = forms.CharField(max_length=60, label="Name", help_text="Unique on its board, e.g. 2026.12.")
    planned_for = forms.DateField(required=False, label="Planned for", widget=DateInput)


class ReleaseEditForm(forms.Form):
    name = forms.CharField(max_length=60, label="Name", help_text="Unique on its board.")
    planned_for = forms.DateField(required=False, label="Planned for", widget=DateInput)

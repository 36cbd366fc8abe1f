"""Shapes of the desk API: saved views and the bulk action's request and answer."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from org.models import Team
from problems.models import Problem

from ..models import SavedView
from ..permissions import can_edit_saved_view
from ..selectors import saved_view_url
from ..services import ACTIONS, MAX_INCIDENTS


class SavedViewSerializer(serializers.ModelSerializer):
    shared = serializers.BooleanField(source="is_shared", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    team_name = serializers.CharField(source="team.name", read_only=True, allow_null=True, default=None)
    can_edit = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text="The queue page with the view's filters.")
    query = serializers.DictField(
        child=serializers.CharField(),
        help_text="The queue's filter parameters (those of GET /api/v1/incidents/, plus sort and tab).",
    )

    class Meta:
        model = SavedView
        fields = [
            "id",
            "name",
            "owner",
            "owner_name",
            "team",
            "team_name",
            "shared",
            "query",
            "can_edit",
            "url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_can_edit(self, view: SavedView) -> bool:
        return can_edit_saved_view(self.context["request"].user, view)

    def get_url(self, view: SavedView) -> str:
        return saved_view_url(view)


class SavedViewInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        allow_null=True,
        required=False,
        help_text="A team to share the view with (one you belong to; managers: any); null for personal.",
    )
    # Checked by desk.services (the queue's own FilterSet): any shape here, field errors there.
    query = serializers.JSONField(required=False, default=dict)


class SavedViewPatchSerializer(SavedViewInSerializer):
    name = serializers.CharField(max_length=80, required=False)
    query = serializers.JSONField(required=False)


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string", "enum": ["me"]}], "nullable": True})
class AssigneeField(serializers.Field):
    """A user id, "me", or null (unassign)."""

    default_error_messages = {
        "invalid": "Give a user id, “me”, or null to unassign.",
        "missing": "No such user.",
    }

    def to_internal_value(self, data: Any) -> Any:
        if data == "me":
            return "me"
        if isinstance(data, bool) or not str(data).isdigit():
            self.fail("invalid")
        user = User.objects.filter(pk=int(data), is_active=True).first()
        if user is None:
            self.fail("missing")
        return user

    def to_representation(self, value: Any) -> Any:
        return value


class BulkInSerializer(serializers.Serializer):
    incidents = serializers.ListField(
        child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=MAX_INCIDENTS
    )
    action = serializers.ChoiceField(choices=[])
    assignee = AssigneeField(
        required=False, allow_null=True, help_text="For assign: a user id, “me”, or null."
    )
    status = serializers.CharField(required=False, default="", allow_blank=True)
    reason = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="A hold's reason, or why they are cancelled."
    )
    resolution_code = serializers.CharField(required=False, default="", allow_blank=True)
    note = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=10_000,
        help_text="An internal note (assign, link), the transition's note, or the note to add.",
    )
    problem = serializers.PrimaryKeyRelatedField(
        queryset=Problem.objects.all(), required=False, help_text="For link_problem: the problem's id."
    )
    versions = serializers.DictField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=dict,
        help_text="{incident id: the version you saw}; a changed incident is refused as stale.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = list(ACTIONS)  # type: ignore[attr-defined]  # registered at start-up

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["action"] == "link_problem" and "problem" not in attrs:
            raise serializers.ValidationError({"problem": ["Give the id of the problem to link them to."]})
        if attrs["action"] == "assign" and "assignee" not in attrs:
            raise serializers.ValidationError({"assignee": ["Give a user id, “me”, or null to unassign."]})
        versions = {}
        for key, version in attrs.get("versions", {}).items():
            if not str(key).isdigit():
                raise serializers.ValidationError({"versions": [f"{key}: the keys are incident ids."]})
            versions[int(key)] = version
        attrs["versions"] = versions
        return attrs


class DoneSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    detail = serializers.CharField()


class RefusedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField(allow_null=True)
    code = serializers.CharField(
        help_text="forbidden, not_found, invalid, stale_object, transition_not_allowed, …"
    )
    detail = serializers.CharField()


class BulkOutSerializer(serializers.Serializer):
    action = serializers.CharField()
    done = DoneSerializer(many=True)
    refused = RefusedSerializer(many=True)

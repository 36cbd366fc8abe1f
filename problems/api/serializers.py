"""Shapes of the problem API (SPEC Appendix B). Input serializers only parse and type-check;
the rules live in problems.services."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from incidents.models import Incident, ResolutionCode
from org.models import Service

from ..models import Problem, ProblemEvent, ProblemStatus
from ..services import RESOLUTION_CODES


class ProblemSerializer(serializers.ModelSerializer):
    incidents = serializers.SerializerMethodField()
    incident_count = serializers.IntegerField(read_only=True)
    open_incident_count = serializers.IntegerField(read_only=True)
    top_priority = serializers.CharField(
        read_only=True, allow_null=True, help_text="The most urgent open incident's priority."
    )
    known_error = serializers.BooleanField(source="is_known_error", read_only=True)
    card_key = serializers.CharField(source="card.key", read_only=True, default=None, allow_null=True)
    owner_name = serializers.SerializerMethodField()

    class Meta:
        model = Problem
        fields = [
            "id", "key", "title", "description", "status", "service", "owner", "owner_name", "root_cause",
            "workaround", "known_error", "incidents", "incident_count", "open_incident_count", "top_priority",
            "card", "card_key", "created_by", "created_at", "updated_at", "known_error_at", "resolved_at",
            "closed_at", "version",
        ]  # fmt: skip
        read_only_fields = fields

    def get_incidents(self, problem) -> list[int]:
        return [link.incident_id for link in problem.incident_links.all()]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, problem):
        return problem.owner.display_name if problem.owner else None


def _incidents_field(**kwargs: Any) -> serializers.PrimaryKeyRelatedField[Any]:
    return serializers.PrimaryKeyRelatedField(
        many=True, queryset=Incident.objects.select_related("service"), **kwargs
    )


def _owner_field() -> serializers.PrimaryKeyRelatedField[Any]:
    return serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )


class ProblemCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    service = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.all(), required=False, allow_null=True, default=None
    )
    owner = _owner_field()
    root_cause = serializers.CharField(required=False, allow_blank=True, default="")
    workaround = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="With a workaround it is a known error."
    )
    incidents = _incidents_field(required=False, default=list)


class ProblemUpdateSerializer(serializers.Serializer):
    """The descriptive fields; the status moves with POST …/transition/."""

    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    service = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.all(), required=False, allow_null=True
    )
    owner = _owner_field()
    root_cause = serializers.CharField(required=False, allow_blank=True)
    workaround = serializers.CharField(required=False, allow_blank=True)
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version you read: a stale one is a 409."
    )


class ProblemTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ProblemStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    root_cause = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None)
    workaround = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None)
    version = serializers.IntegerField(required=False, min_value=1)


class ProblemLinkSerializer(serializers.Serializer):
    incidents = _incidents_field(allow_empty=False)


class ProblemLinkResultSerializer(serializers.Serializer):
    linked = serializers.ListField(child=serializers.IntegerField())
    already = serializers.ListField(
        child=serializers.IntegerField(), help_text="Already linked to this problem."
    )
    escalated = serializers.ListField(
        child=serializers.IntegerField(), help_text="Put on the problem's development card."
    )
    refused = serializers.DictField(child=serializers.CharField(), help_text="Incident key → why not linked.")
    not_escalated = serializers.DictField(child=serializers.CharField())
    problem = ProblemSerializer()


class ProblemUnlinkSerializer(serializers.Serializer):
    incident = serializers.PrimaryKeyRelatedField(queryset=Incident.objects.all())
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ProblemResolveIncidentsSerializer(serializers.Serializer):
    incidents = _incidents_field(
        required=False, help_text="Which linked incidents to resolve; default: every open one."
    )
    resolution_code = serializers.ChoiceField(
        choices=[(c.value, c.label) for c in RESOLUTION_CODES], default=ResolutionCode.FIXED
    )
    note = serializers.CharField(help_text="The resolution note each customer reads.")


class ProblemResolveOutcomeSerializer(serializers.Serializer):
    done = serializers.ListField(child=serializers.IntegerField(), help_text="Incidents resolved.")
    refused = serializers.DictField(child=serializers.CharField(), help_text="Incident key → why not.")


class ProblemEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProblemEvent
        fields = ["id", "at", "actor", "event", "field", "old", "new", "note"]
        read_only_fields = fields


class ProblemSuggestionQuerySerializer(serializers.Serializer):
    service = serializers.IntegerField(required=False, allow_null=True, default=None)
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ProblemSuggestionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[("problem", "problem"), ("incident", "incident")])
    id = serializers.IntegerField()
    key = serializers.CharField()
    title = serializers.CharField()
    workaround = serializers.CharField(allow_null=True)
    problem = serializers.IntegerField(
        allow_null=True, help_text="For an incident: the problem it belongs to."
    )
    score = serializers.FloatField()

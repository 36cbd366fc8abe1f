from typing import Any

from rest_framework import serializers

from incidents.models import Incident
from org.models import Team
from sprints.models import Sprint

from ..models import ChangeRequest, Decision, Kind, Source


class ChangeRequestSerializer(serializers.ModelSerializer):
    incidents: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    card_key = serializers.CharField(source="card.key", read_only=True, default=None, allow_null=True)
    requester: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(read_only=True)
    incident_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ChangeRequest
        fields = [
            "id",
            "key",
            "title",
            "description",
            "source",
            "kind",
            "justification",
            "status",
            "incidents",
            "incident_count",
            "card",
            "card_key",
            "team",
            "requester",
            "decision_reason",
            "decided_by",
            "decided_at",
            "approved_by",
            "created_at",
        ]
        read_only_fields = fields


class ChangeRequestCreateSerializer(serializers.Serializer):
    """`team`: the development team asked; needed unless a linked incident's service has one."""

    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    # A declared field named "source" is plain DRF; the stubs see Field.source (a string).
    source = serializers.ChoiceField(choices=Source.choices, default=Source.SUPPORT)  # type: ignore[assignment]
    kind = serializers.ChoiceField(choices=Kind.choices, default=Kind.NORMAL)
    justification = serializers.CharField(required=False, allow_blank=True, default="")
    incidents = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Incident.objects.select_related("service__team"), required=False, default=list
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.filter(is_development=True), required=False, allow_null=True, default=None
    )


class TriageSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    sprint = serializers.PrimaryKeyRelatedField(
        queryset=Sprint.objects.all(), required=False, allow_null=True
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    estimate = serializers.DecimalField(
        max_digits=6,
        decimal_places=1,
        min_value=0,
        max_value=1000,
        required=False,
        allow_null=True,
        default=None,
        help_text="Emergency changes: what the change costs the sprint (default: the team's estimate "
        "for the linked incidents' priority, P1 without incidents).",
    )
    preview = serializers.BooleanField(
        required=False, default=False, help_text="Only show the effect (sprint_impact); nothing is written."
    )

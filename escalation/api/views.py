from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from boards.api.serializers import CardOutSerializer
from boards.models import Card
from boards.selectors import card_api_get
from incidents.models import Incident
from org.models import Team
from sprints.models import Sprint

from ..permissions import can_escalate_to_development
from ..services import escalation_preview, incident_escalate_to_development


@extend_schema_field({"oneOf": [{"type": "boolean"}, {"type": "integer"}], "nullable": True})
class IntoSprintField(serializers.Field):
    """`true` for the team's active sprint, `false` for the backlog, or a sprint id."""

    default_error_messages = {
        "invalid": "Use true, false or the id of a sprint.",
        "missing": "No sprint {value}.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and data.lower() in ("true", "false", "1", "0", ""):
            return {"true": True, "1": True}.get(data.lower(), False if data else None)
        if isinstance(data, int) or (isinstance(data, str) and data.isdigit()):
            sprint = Sprint.objects.filter(pk=int(data)).first()
            if sprint is None:
                self.fail("missing", value=data)
            return sprint
        self.fail("invalid")

    def to_representation(self, value):
        return value.pk if isinstance(value, Sprint) else value


class EscalateToDevelopmentSerializer(serializers.Serializer):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    card = serializers.PrimaryKeyRelatedField(queryset=Card.objects.all(), required=False, allow_null=True)
    estimate = serializers.DecimalField(
        max_digits=6, decimal_places=1, min_value=0, required=False, allow_null=True
    )
    into_sprint = IntoSprintField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class PreviewCardSerializer(serializers.Serializer):
    """The card a preview would create: not saved, so no key or id yet."""

    key = serializers.CharField(allow_null=True)
    title = serializers.CharField()
    column = serializers.CharField(help_text="The column's name.")
    lane = serializers.CharField(help_text="The lane's name.")
    estimate = serializers.FloatField(allow_null=True)


class ImpactSprintSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    end = serializers.DateField()
    state = serializers.CharField()


class AtRiskCardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    title = serializers.CharField()
    estimate = serializers.FloatField()


class SprintImpactSerializer(serializers.Serializer):
    """What the card does to the active sprint (absent when it goes to the backlog)."""

    sprint = ImpactSprintSerializer()
    unit = serializers.CharField(help_text="points or hours")
    estimate = serializers.FloatField()
    capacity = serializers.FloatField()
    support_reserved = serializers.FloatField()
    unplanned_before = serializers.FloatField()
    unplanned_after = serializers.FloatField()
    support_reserve_remaining_before = serializers.FloatField()
    support_reserve_remaining_after = serializers.FloatField()
    exceeds_support_reserve = serializers.BooleanField()
    capacity_line_before = serializers.FloatField()
    capacity_line_after = serializers.FloatField()
    overcommitted_by_before = serializers.FloatField()
    overcommitted_by_after = serializers.FloatField()
    at_risk = serializers.ListField(
        child=serializers.IntegerField(), help_text="Committed cards now at risk."
    )
    newly_at_risk = AtRiskCardSerializer(many=True)
    sla_due_at = serializers.DateTimeField(allow_null=True)
    sprint_ends_at = serializers.DateTimeField()
    sla_due_before_sprint_end = serializers.BooleanField(allow_null=True)


EscalationResponse = inline_serializer(
    "EscalationResult",
    {
        "card": PolymorphicProxySerializer(
            component_name="EscalationCard",
            serializers=[CardOutSerializer, PreviewCardSerializer],
            resource_type_field_name=None,
            help_text="The card (as in /api/v1/cards/); in a preview, the card it would create.",
        ),
        "sprint_impact": SprintImpactSerializer(allow_null=True),
        "placement": serializers.CharField(),
        "preview": serializers.BooleanField(),
    },
)


class EscalateToDevelopmentApi(APIView):
    """Escalate an incident to development (POST), or preview the effect (GET, same fields as query)."""

    def _incident(self, request, pk):
        incident = get_object_or_404(Incident, pk=pk)
        if not can_escalate_to_development(request.user, incident):
            raise PermissionDenied(
                "Only the incident's support owner (its assignee or team) as a support engineer or "
                "developer, or a manager, can escalate it to development."
            )
        return incident

    @extend_schema(
        request=EscalateToDevelopmentSerializer,
        responses={
            201: EscalationResponse,
            409: OpenApiResponse(description="Not open or already escalated"),
        },
    )
    def post(self, request, pk):
        incident = self._incident(request, pk)
        data = EscalateToDevelopmentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = incident_escalate_to_development(
            incident=incident, actor=request.user, **data.validated_data
        )
        return Response(self._out(result), status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[EscalateToDevelopmentSerializer],
        responses={
            200: EscalationResponse,
            409: OpenApiResponse(description="Not open or already escalated"),
        },
    )
    def get(self, request, pk):
        incident = self._incident(request, pk)
        data = EscalateToDevelopmentSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        result = escalation_preview(incident=incident, actor=request.user, **data.validated_data)
        out = self._out(result, preview=True)
        return Response(out)

    def _out(self, result, preview=False):
        if preview:
            card = {
                "key": None,
                "title": result.card.title,
                "column": result.card.column.name,
                "lane": result.card.lane.name,
                "estimate": None if result.card.estimate is None else float(result.card.estimate),
            }
        else:
            card = CardOutSerializer(card_api_get(result.card.pk)).data
        return {
            "card": card,
            "sprint_impact": result.sprint_impact,
            "placement": result.escalation.placement,
            "preview": preview,
        }

"""Problem API: parse input, ask the permission predicate, call a service, serialize."""

import django_filters
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from boards.api.serializers import CardOutSerializer
from boards.selectors import card_api_get
from escalation.api.views import (
    EscalateToDevelopmentSerializer,
    PreviewCardSerializer,
    SprintImpactSerializer,
)
from incidents.models import Incident
from tracker.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent

from .. import permissions as perms
from .. import services
from ..models import OPEN_PROBLEM_STATUSES, Problem, ProblemIncident, ProblemStatus
from ..selectors import problem_list, problem_timeline, similar_to
from . import serializers as s


class ProblemFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[("open", "Open"), *ProblemStatus.choices], method="by_status"
    )
    known_error = django_filters.BooleanFilter(method="by_known_error")
    search = django_filters.CharFilter(method="by_search")

    class Meta:
        model = Problem
        fields = ["status", "service", "owner", "known_error"]

    def by_status(self, qs, name, value):
        if value == "open":
            return qs.filter(status__in=OPEN_PROBLEM_STATUSES)
        return qs.filter(status=value) if value else qs

    def by_known_error(self, qs, name, value):
        if value is None:
            return qs
        known = Q(status__in=OPEN_PROBLEM_STATUSES) & ~Q(workaround="")
        return qs.filter(known) if value else qs.exclude(known)

    def by_search(self, qs, name, value):
        text = (value or "").strip()
        if not text:
            return qs
        return qs.filter(
            Q(key__iexact=text)
            | Q(title__icontains=text)
            | Q(description__icontains=text)
            | Q(workaround__icontains=text)
        )


class CanReadProblems(BasePermission):
    message = "Problems are for Tandem staff."

    def has_permission(self, request, view):
        return perms.can_view_problems(request.user)


def _check(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


ProblemEscalationResponse = inline_serializer(
    "ProblemEscalationResult",
    {
        "card": PolymorphicProxySerializer(
            component_name="ProblemEscalationCard",
            serializers=[CardOutSerializer, PreviewCardSerializer],
            resource_type_field_name=None,
            help_text="The card (as in /api/v1/cards/); in a preview, the card it would create.",
        ),
        "sprint_impact": SprintImpactSerializer(allow_null=True),
        "placement": serializers.CharField(),
        "escalated": serializers.ListField(
            child=serializers.IntegerField(), help_text="Incidents put on the card."
        ),
        "skipped": serializers.DictField(child=serializers.CharField(), help_text="Incident key → why not."),
        "preview": serializers.BooleanField(),
        "problem": s.ProblemSerializer(),
    },
)


class ProblemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Problems (ITIL) and known errors: group incidents, escalate once, resolve them together."""

    serializer_class = s.ProblemSerializer
    permission_classes = [IsAuthenticated, CanReadProblems]
    lookup_value_regex = r"\d+"
    filterset_class = ProblemFilter
    ordering_fields = ["created_at", "updated_at", "status"]

    def get_queryset(self):
        links = Prefetch("incident_links", queryset=ProblemIncident.objects.order_by("incident_id"))
        return problem_list().prefetch_related(links).order_by("-created_at", "-id")

    def _problem(self) -> Problem:
        return get_object_or_404(Problem, pk=self.kwargs["pk"])

    def _read(self, pk):
        return s.ProblemSerializer(self.get_queryset().get(pk=pk)).data

    @extend_schema(
        request=s.ProblemCreateSerializer,
        responses={201: s.ProblemSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request):
        _check(perms.can_create_problem(request.user), "Your role cannot open problems.")
        data = s.ProblemCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        problem = services.problem_create(actor=request.user, **data.validated_data)
        return Response(self._read(problem.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ProblemUpdateSerializer, responses={200: s.ProblemSerializer})
    def partial_update(self, request, pk=None):
        problem = self._problem()
        _check(perms.can_edit_problem(request.user, problem), "You cannot edit this problem.")
        data = s.ProblemUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = values.pop("version", None)
        services.problem_update(problem=problem, actor=request.user, expected_version=version, **values)
        return Response(self._read(problem.pk))

    @extend_schema(request=s.ProblemTransitionSerializer, responses={200: s.ProblemSerializer})
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        problem = self._problem()
        _check(
            perms.can_transition_problem(request.user, problem), "You cannot change this problem's status."
        )
        data = s.ProblemTransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        services.problem_transition(
            problem=problem, actor=request.user, expected_version=values.pop("version", None), **values
        )
        return Response(self._read(problem.pk))

    @extend_schema(request=s.ProblemLinkSerializer, responses={200: s.ProblemLinkResultSerializer})
    @action(detail=True, methods=["post"])
    def link(self, request, pk=None):
        """Link incidents, each on its own: the answer says which were linked, already linked,
        refused (and why), and which joined the problem's development card."""
        problem = self._problem()
        _check(perms.can_link(request.user, problem), "Your role cannot link incidents to problems.")
        data = s.ProblemLinkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.problem_link_incidents(
            problem=problem, incidents=data.validated_data["incidents"], actor=request.user
        )
        return Response(
            {
                "linked": [i.pk for i in result.linked],
                "already": [i.pk for i in result.already],
                "escalated": [i.pk for i in result.escalated],
                "refused": result.refused,
                "not_escalated": result.not_escalated,
                "problem": self._read(problem.pk),
            }
        )

    @extend_schema(request=s.ProblemUnlinkSerializer, responses={200: s.ProblemSerializer})
    @action(detail=True, methods=["post"])
    def unlink(self, request, pk=None):
        problem = self._problem()
        _check(perms.can_link(request.user, problem), "Your role cannot unlink incidents.")
        data = s.ProblemUnlinkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.problem_unlink_incident(problem=problem, actor=request.user, **data.validated_data)
        return Response(self._read(problem.pk))

    def _escalation_out(self, result, *, preview: bool):
        if preview:
            card = s_preview_card(result.card)
        else:
            card = CardOutSerializer(card_api_get(result.card.pk)).data
        return {
            "card": card,
            "sprint_impact": result.sprint_impact,
            "placement": result.placement,
            "escalated": [i.pk for i in result.escalated],
            "skipped": result.skipped,
            "preview": preview,
            "problem": self._read(result.problem.pk),
        }

    @extend_schema(
        methods=["POST"],
        request=EscalateToDevelopmentSerializer,
        responses={
            201: ProblemEscalationResponse,
            409: OpenApiResponse(description="Not open, or already escalated"),
        },
    )
    @extend_schema(
        methods=["GET"],
        parameters=[EscalateToDevelopmentSerializer],
        responses={
            200: ProblemEscalationResponse,
            409: OpenApiResponse(description="Not open, or already escalated"),
        },
        description="The effect of escalating, computed and rolled back: nothing is written.",
    )
    @action(detail=True, methods=["get", "post"], url_path="escalate-to-development")
    def escalate_to_development(self, request, pk=None):
        """One defect card for the problem, every open incident escalated onto it (POST);
        GET previews it with the same fields as query parameters."""
        problem = self._problem()
        _check(
            perms.can_escalate_problem(request.user, problem),
            "Support engineers, developers and managers escalate problems to development.",
        )
        source = request.data if request.method == "POST" else request.query_params
        data = EscalateToDevelopmentSerializer(data=source)
        data.is_valid(raise_exception=True)
        if request.method == "GET":
            result = services.problem_escalation_preview(
                problem=problem, actor=request.user, **data.validated_data
            )
            return Response(self._escalation_out(result, preview=True))
        result = services.problem_escalate_to_development(
            problem=problem, actor=request.user, **data.validated_data
        )
        return Response(self._escalation_out(result, preview=False), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.ProblemResolveIncidentsSerializer, responses={200: s.ProblemResolveOutcomeSerializer}
    )
    @action(detail=True, methods=["post"], url_path="resolve-incidents")
    def resolve_incidents(self, request, pk=None):
        """Resolve the problem's incidents together, each in its own transaction (default:
        every open one); each requester gets the resolution e-mail."""
        problem = self._problem()
        _check(
            perms.can_resolve_incidents(request.user, problem), "You cannot resolve this problem's incidents."
        )
        data = s.ProblemResolveIncidentsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        chosen = values.pop("incidents", None)
        if chosen is None:
            chosen = list(services.open_incidents_of(problem))
        outcome = services.problem_resolve_incidents(
            problem=problem, incidents=chosen, actor=request.user, **values
        )
        return Response({"done": [i.pk for i in outcome.done], "refused": outcome.refused})

    @extend_schema(responses={200: s.ProblemEventSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        problem = self._problem()
        page = self.paginate_queryset(problem_timeline(problem))
        return self.get_paginated_response(s.ProblemEventSerializer(page, many=True).data)

    @extend_schema(
        parameters=[s.ProblemSuggestionQuerySerializer],
        responses={
            200: inline_serializer(
                "ProblemSuggestionList",
                {
                    "results": s.ProblemSuggestionSerializer(many=True),
                    "next": serializers.URLField(allow_null=True, help_text="Always null: one page."),
                },
            )
        },
    )
    @action(detail=False, methods=["get"])
    def suggestions(self, request):
        """Known errors and open incidents that look like an incident being logged (same
        service, similar words), best first."""
        data = s.ProblemSuggestionQuerySerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        found = similar_to(
            service_id=data.validated_data["service"],
            title=data.validated_data["title"],
            description=data.validated_data["description"],
        )
        rows = [
            {
                "type": "problem",
                "id": x.problem.pk,
                "key": x.problem.key,
                "title": x.problem.title,
                "workaround": x.problem.workaround,
                "problem": None,
                "score": round(x.score, 3),
            }
            for x in found["known_errors"]
            if x.problem is not None
        ] + [
            {
                "type": "incident",
                "id": x.incident.pk,
                "key": x.incident.key,
                "title": x.incident.title,
                "workaround": None,
                "problem": _problem_id(x.incident),
                "score": round(x.score, 3),
            }
            for x in found["incidents"]
            if x.incident is not None
        ]
        return Response({"results": rows, "next": None})


def _problem_id(incident: Incident):
    link = getattr(incident, "problem_link", None)
    return link.problem_id if link is not None else None


def s_preview_card(card):
    return PreviewCardSerializer(
        {
            "key": None,
            "title": card.title,
            "column": card.column.name,
            "lane": card.lane.name,
            "estimate": None if card.estimate is None else float(card.estimate),
        }
    ).data

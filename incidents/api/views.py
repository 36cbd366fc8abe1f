"""Incident API: parse input, check the permission predicate, call a service, serialize.

A ViewSet keeps the many small actions of one incident together under one URL prefix; each
action stays a few lines because the rules live in incidents.services.
"""

from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from tracker.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from tracker.api.pagination import CursorPagination, PageNumberPagination

from .. import permissions as perms
from .. import services
from ..filters import IncidentFilter
from ..models import Incident
from ..selectors import incident_history, incident_list, incident_rows, incident_sort
from . import serializers as s


class IsStaffMember(permissions.BasePermission):
    """Every role may read incidents; writes are checked per action by the predicates."""

    def has_permission(self, request, view):
        return perms.can_view_incidents(request.user)


def _check(allowed: bool, message: str):
    if not allowed:
        raise PermissionDenied(message)


class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.IncidentSerializer
    permission_classes = [permissions.IsAuthenticated, IsStaffMember]
    filterset_class = IncidentFilter
    ordering_fields = ["created_at", "updated_at", "priority", "sla_due_at", "key", "status"]
    lookup_value_regex = r"\d+"

    @property
    def pagination_class(self):
        # The incident list can be deep: keyset pages. An incident's own comments, time and
        # history are short: page numbers.
        return CursorPagination if self.action == "list" else PageNumberPagination

    def get_queryset(self):
        # The list reads its page's names and links itself (IncidentListSerializer).
        qs = incident_rows() if self.action == "list" else incident_list(for_detail=True)
        if self.action == "list" and not self.request.query_params.get("ordering"):
            sort = self.request.query_params.get("sort", "newest")
            qs = incident_sort(qs, sort)
        return qs

    # ------------------------------------------------------------ helpers
    def _incident(self) -> Incident:
        return get_object_or_404(Incident.objects.select_related("team", "service"), pk=self.kwargs["pk"])

    def _input(self, serializer_class):
        ser = serializer_class(data=self.request.data)
        ser.is_valid(raise_exception=True)
        return ser.validated_data

    def _represent(self, pk) -> dict | None:
        """One incident as the API shows it, through the list's lean read path (a page of
        one): the same fields as IncidentSerializer over the fully read incident
        (tests/incidents/test_hot_paths.py), in four statements instead of a dozen."""
        rows = incident_rows().filter(pk=pk)
        found = s.IncidentSerializer(rows, many=True, context=self.get_serializer_context()).data
        return found[0] if found else None

    def _respond(self, incident, code=status.HTTP_200_OK):
        return Response(self._represent(incident.pk), status=code)

    def retrieve(self, request, pk=None):
        found = self._represent(pk)
        if found is None:
            raise NotFound("No Incident matches the given query.")
        return Response(found)

    # ------------------------------------------------------------ create and edit
    @extend_schema(
        request=s.IncidentCreateSerializer,
        responses={201: s.IncidentSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request):
        _check(perms.can_create_incident(request.user), "Your role cannot log incidents.")
        data = self._input(s.IncidentCreateSerializer)
        incident = services.incident_create(actor=request.user, **data)
        return self._respond(incident, status.HTTP_201_CREATED)

    @extend_schema(request=s.IncidentUpdateSerializer, responses=s.IncidentSerializer)
    def partial_update(self, request, pk=None):
        incident = self._incident()
        _check(perms.can_update(request.user, incident), "Only the incident's team or a manager can edit it.")
        data = dict(self._input(s.IncidentUpdateSerializer))
        version = data.pop("version", None)
        incident = services.incident_update(
            incident=incident, actor=request.user, data=data, expected_version=version
        )
        return self._respond(incident)

    # ------------------------------------------------------------ lifecycle
    @extend_schema(request=s.TransitionSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        incident = self._incident()
        _check(
            perms.can_transition(request.user, incident),
            "Only the incident's team, its assignee or a manager can change its status.",
        )
        data = self._input(s.TransitionSerializer)
        incident = services.incident_transition(
            incident=incident,
            actor=request.user,
            status=data["status"],
            reason=data["reason"],
            resolution_code=data["resolution_code"],
            note=data["note"],
            expected_version=data.get("version"),
        )
        return self._respond(incident)

    @extend_schema(request=s.AssignSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        incident = self._incident()
        _check(
            perms.can_assign(request.user, incident), "Only the incident's team or a manager can assign it."
        )
        data = self._input(s.AssignSerializer)
        incident = services.incident_assign(
            incident=incident,
            actor=request.user,
            assignee=data["assignee"],
            expected_version=data.get("version"),
        )
        return self._respond(incident)

    @extend_schema(request=None, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def take(self, request, pk=None):
        incident = self._incident()
        _check(perms.can_take(request.user, incident), "Only members of the incident's team can take it.")
        incident = services.incident_take(incident=incident, actor=request.user)
        return self._respond(incident)

    # ------------------------------------------------------------ conversation and time
    @extend_schema(
        methods=["post"],
        request=s.CommentInSerializer,
        responses={201: s.CommentSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @extend_schema(methods=["get"], responses=s.CommentSerializer(many=True))
    @action(detail=True, methods=["get", "post"])
    @idempotent
    def comments(self, request, pk=None):
        incident = self._incident()
        if request.method == "GET":
            rows = incident.comments.select_related("author").prefetch_related("attachments")
            page = self.paginate_queryset(rows)
            return self.get_paginated_response(s.CommentSerializer(page, many=True).data)
        _check(perms.can_comment(request.user, incident), "Your role cannot comment on incidents.")
        data = self._input(s.CommentInSerializer)
        comment = services.incident_comment(
            incident=incident, actor=request.user, body=data["body"], public=data["public"], via="api"
        )
        return Response(s.CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["post"], request=s.TimeInSerializer, responses={201: s.TimeEntrySerializer})
    @extend_schema(methods=["get"], responses=s.TimeEntrySerializer(many=True))
    @action(detail=True, methods=["get", "post"])
    def time(self, request, pk=None):
        incident = self._incident()
        if request.method == "GET":
            page = self.paginate_queryset(incident.time_entries.all())
            return self.get_paginated_response(s.TimeEntrySerializer(page, many=True).data)
        _check(perms.can_log_time(request.user, incident), "Your role cannot log time on incidents.")
        data = self._input(s.TimeInSerializer)
        entry = services.incident_log_time(
            incident=incident, actor=request.user, minutes=data["minutes"], note=data["note"]
        )
        return Response(s.TimeEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    # ------------------------------------------------------------ escalation
    @extend_schema(request=s.EscalateSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        incident = self._incident()
        _check(
            perms.can_escalate(request.user, incident),
            "Only the incident's team or a manager can escalate it.",
        )
        data = self._input(s.EscalateSerializer)
        incident = services.incident_escalate(
            incident=incident,
            actor=request.user,
            team=data["team"],
            note=data["note"],
            expected_version=data.get("version"),
        )
        return self._respond(incident)

    @extend_schema(request=s.PrioritySerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def priority(self, request, pk=None):
        incident = self._incident()
        _check(
            perms.can_override_priority(request.user, incident), "Only managers can override the priority."
        )
        data = self._input(s.PrioritySerializer)
        incident = services.incident_set_priority(
            incident=incident,
            actor=request.user,
            priority=data["priority"],
            reason=data["reason"],
            expected_version=data.get("version"),
        )
        return self._respond(incident)

    @extend_schema(request=s.DeclareMajorSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"], url_path="declare-major")
    def declare_major(self, request, pk=None):
        incident = self._incident()
        _check(perms.can_declare_major(request.user, incident), "Only managers can declare a major incident.")
        data = self._input(s.DeclareMajorSerializer)
        incident = services.incident_declare_major(incident=incident, actor=request.user, note=data["note"])
        return self._respond(incident)

    @extend_schema(request=None, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"], url_path="swarm/join")
    def swarm_join(self, request, pk=None):
        incident = self._incident()
        _check(perms.can_join_swarm(request.user, incident), "Your role cannot join a swarm.")
        incident = services.incident_swarm_join(incident=incident, actor=request.user)
        return self._respond(incident)

    @extend_schema(request=None, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"], url_path="swarm/leave")
    def swarm_leave(self, request, pk=None):
        incident = self._incident()
        _check(perms.can_join_swarm(request.user, incident), "Your role cannot join a swarm.")
        incident = services.incident_swarm_leave(incident=incident, actor=request.user)
        return self._respond(incident)

    # ------------------------------------------------------------ links
    @extend_schema(request=s.MergeSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        incident = self._incident()
        _check(perms.can_merge(request.user, incident), "Only the incident's team or a manager can merge it.")
        data = self._input(s.MergeSerializer)
        incident = services.incident_merge_duplicate(
            incident=incident, actor=request.user, parent=data["parent"], note=data["note"]
        )
        return self._respond(incident)

    @extend_schema(request=s.LinkCauseSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"], url_path="link-cause")
    def link_cause(self, request, pk=None):
        incident = self._incident()
        _check(
            perms.can_link(request.user, incident), "Only the incident's team or a manager can link a cause."
        )
        data = self._input(s.LinkCauseSerializer)
        incident = services.incident_link_cause(
            incident=incident, actor=request.user, card=data.get("card"), release=data.get("release")
        )
        return self._respond(incident)

    @extend_schema(responses=s.HistorySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        incident = self._incident()
        page = self.paginate_queryset(incident_history(incident))
        return self.get_paginated_response(s.HistorySerializer(page, many=True).data)

    def filter_queryset(self, queryset):
        # Action endpoints list related rows; only the incident list is filtered.
        if self.action != "list":
            return queryset
        asked = not IncidentFilter.base_filters.keys().isdisjoint(self.request.query_params)
        for backend in self.filter_backends:
            # A list asking for no filter skips the filterset, which has nothing to do then but
            # costs ~3 ms to build (it deep-copies its filters and their form's fields).
            if asked or not issubclass(backend, DjangoFilterBackend):
                queryset = backend().filter_queryset(self.request, queryset, self)
        return queryset

"""Sprint API: parse input, check the permission predicate, call a service, serialize."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from org.models import Team

from .. import permissions as perms
from .. import selectors, services
from ..models import ScopeChange, Sprint, SprintMember
from . import serializers as s


class CanReadSprints(permissions.BasePermission):
    def has_permission(self, request, view):
        return perms.can_read_sprints(request.user)


def _check(allowed: bool, message: str):
    if not allowed:
        raise PermissionDenied(message)


CapacitySerializer = inline_serializer(
    "SprintCapacity",
    {
        "unit": serializers.CharField(),
        "capacity": serializers.FloatField(),
        "support_reserved": serializers.FloatField(),
        "committed": serializers.FloatField(),
        "unplanned": serializers.FloatField(),
        "completed": serializers.FloatField(),
        "remaining": serializers.FloatField(),
        "overcommitted_by": serializers.FloatField(),
        "at_risk": serializers.ListField(child=serializers.IntegerField()),
        "unplanned_by_source": serializers.DictField(child=serializers.FloatField()),
        "capacity_line": serializers.FloatField(),
    },
)


class SprintViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sprints of development teams: planning → active → closed."""

    serializer_class = s.SprintSerializer
    permission_classes = [permissions.IsAuthenticated, CanReadSprints]
    filterset_fields = ["team", "state", "board"]
    ordering_fields = ["start", "end", "name"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return Sprint.objects.order_by("-start", "-pk")

    def _sprint(self) -> Sprint:
        return get_object_or_404(
            Sprint.objects.select_related("team", "support_member"), pk=self.kwargs["pk"]
        )

    def _input(self, serializer_class):
        ser = serializer_class(data=self.request.data)
        ser.is_valid(raise_exception=True)
        return ser.validated_data

    def _respond(self, sprint, code=status.HTTP_200_OK):
        sprint = Sprint.objects.prefetch_related("carry_overs__card", "carry_overs__to_sprint").get(
            pk=sprint.pk
        )
        return Response(s.SprintDetailSerializer(sprint).data, status=code)

    @extend_schema(responses=s.SprintDetailSerializer)
    def retrieve(self, request, pk=None):
        return self._respond(self._sprint())

    @extend_schema(request=s.SprintCreateSerializer, responses={201: s.SprintSerializer})
    def create(self, request):
        _check(perms.can_plan_sprint(request.user), "Only product owners and managers create sprints.")
        sprint = services.sprint_create(actor=request.user, **self._input(s.SprintCreateSerializer))
        return self._respond(sprint, status.HTTP_201_CREATED)

    @extend_schema(request=s.SprintUpdateSerializer, responses=s.SprintSerializer)
    def partial_update(self, request, pk=None):
        sprint = self._sprint()
        _check(perms.can_plan_sprint(request.user, sprint), "Only product owners and managers edit sprints.")
        ser = s.SprintUpdateSerializer(data=request.data, partial=True)
        ser.is_valid(raise_exception=True)
        sprint = services.sprint_update(sprint=sprint, actor=request.user, **ser.validated_data)
        return self._respond(sprint)

    @extend_schema(request=s.SprintStartSerializer, responses=s.SprintDetailSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Start the sprint. Early, late or over capacity: 409 confirmation_required unless
        `confirm` is true."""
        sprint = self._sprint()
        _check(perms.can_plan_sprint(request.user, sprint), "Only product owners and managers start sprints.")
        data = self._input(s.SprintStartSerializer)
        return self._respond(services.sprint_start(sprint=sprint, actor=request.user, **data))

    @extend_schema(request=s.SprintCloseSerializer, responses=s.SprintDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close the sprint; unfinished cards go to `carry_over_to` or the backlog. Before
        its last day: 409 confirmation_required unless `confirm` is true."""
        sprint = self._sprint()
        _check(perms.can_plan_sprint(request.user, sprint), "Only product owners and managers close sprints.")
        data = self._input(s.SprintCloseSerializer)
        return self._respond(services.sprint_close(sprint=sprint, actor=request.user, **data))

    @extend_schema(
        responses=inline_serializer(
            "SprintStartPreview", {"risks": serializers.ListField(), "summary": serializers.CharField()}
        )
    )
    @action(detail=True, methods=["get"], url_path="start-preview", filterset_fields=[], ordering_fields=[])
    def start_preview(self, request, pk=None):
        """What starting now would do, and what would need confirming."""
        return Response(services.sprint_start_preview(sprint=self._sprint()).as_api())

    @extend_schema(
        parameters=[OpenApiParameter("carry_over_to", int)],
        responses=inline_serializer(
            "SprintClosePreview", {"risks": serializers.ListField(), "summary": serializers.CharField()}
        ),
    )
    @action(detail=True, methods=["get"], url_path="close-preview", filterset_fields=[], ordering_fields=[])
    def close_preview(self, request, pk=None):
        """What closing now would do: the unfinished cards and where they go, how early."""
        sprint = self._sprint()
        raw = request.query_params.get("carry_over_to", "")
        target = None
        if raw:
            target = (
                Sprint.objects.filter(pk=int(raw), team_id=sprint.team_id).first() if raw.isdigit() else None
            )
            if target is None:
                raise ValidationError({"carry_over_to": ["Unknown sprint of this team."]})
        return Response(services.sprint_close_preview(sprint=sprint, carry_over_to=target).as_api())

    @extend_schema(responses=CapacitySerializer)
    @action(detail=True, methods=["get"])
    def capacity(self, request, pk=None):
        view = selectors.sprint_panel(self._sprint())
        return Response(view.as_api())

    @extend_schema(responses=s.ScopeChangeSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="scope-changes", filterset_fields=[], ordering_fields=[])
    def scope_changes(self, request, pk=None):
        sprint = self._sprint()
        qs = ScopeChange.objects.filter(sprint=sprint).select_related("card").order_by("at", "pk")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(s.ScopeChangeSerializer(page, many=True).data)

    @extend_schema(
        responses=inline_serializer(
            "SprintBurndown",
            {
                "results": inline_serializer(
                    "BurndownPoint",
                    {
                        "day": serializers.CharField(
                            help_text='"start", then each working day (YYYY-MM-DD).'
                        ),
                        "ideal": serializers.FloatField(),
                        "actual": serializers.FloatField(allow_null=True),
                    },
                    many=True,
                )
            },
        )
    )
    @action(detail=True, methods=["get"], filterset_fields=[], ordering_fields=[])
    def burndown(self, request, pk=None):
        points = selectors.sprint_burndown(self._sprint())
        return Response(
            {
                "results": [
                    {
                        "day": p["day"],
                        "ideal": float(p["ideal"]),
                        "actual": None if p["actual"] is None else float(p["actual"]),
                    }
                    for p in points
                ]
            }
        )

    @extend_schema(
        operation_id="sprints_members_list",
        responses=inline_serializer("SprintMembers", {"results": s.SprintMemberSerializer(many=True)}),
    )
    @action(detail=True, methods=["get"], filterset_fields=[], ordering_fields=[])
    def members(self, request, pk=None):
        sprint = self._sprint()
        return Response(
            {"results": s.SprintMemberSerializer(selectors.sprint_members(sprint), many=True).data}
        )


class SprintMemberApi(viewsets.GenericViewSet):
    """One member's availability in one sprint."""

    permission_classes = [permissions.IsAuthenticated, CanReadSprints]
    serializer_class = s.SprintMemberSerializer

    def _member(self, sprint_pk, pk):
        return get_object_or_404(
            SprintMember.objects.select_related("sprint", "user"), pk=pk, sprint_id=sprint_pk
        )

    def retrieve(self, request, sprint_pk=None, pk=None):
        return Response(s.SprintMemberSerializer(self._member(sprint_pk, pk)).data)

    @extend_schema(request=s.SprintMemberUpdateSerializer, responses=s.SprintMemberSerializer)
    def partial_update(self, request, sprint_pk=None, pk=None):
        member = self._member(sprint_pk, pk)
        _check(perms.can_edit_availability(request.user, member), "You cannot change this availability.")
        ser = s.SprintMemberUpdateSerializer(data=request.data, partial=True)
        ser.is_valid(raise_exception=True)
        member = services.sprint_member_update(member=member, actor=request.user, **ser.validated_data)
        return Response(s.SprintMemberSerializer(member).data)


def _rotation_out(team) -> dict:
    return {
        "team": team.pk,
        "support_model": team.support_model,
        "members": [m.pk for m in services.rotation_order(team)],
        "ahead": [
            {
                "sprint": row["sprint"].pk if row["sprint"] else None,
                "name": row["name"],
                "start": row["start"],
                "member": row["member"].pk if row["member"] else None,
            }
            for row in services.support_rotation_forecast(team)
        ],
    }


class TeamRotationApi(viewsets.ViewSet):
    """A development team's support rotation: its order (editable) and who is on support
    in the coming sprints (round robin)."""

    permission_classes = [permissions.IsAuthenticated, CanReadSprints]

    def _team(self, pk):
        return get_object_or_404(Team, pk=pk, is_development=True)

    @extend_schema(responses=inline_serializer("TeamRotation", {"members": serializers.ListField()}))
    def retrieve(self, request, team_pk=None):
        return Response(_rotation_out(self._team(team_pk)))

    @extend_schema(
        request=s.RotationSerializer,
        responses=inline_serializer("TeamRotationOut", {"members": serializers.ListField()}),
    )
    def update(self, request, team_pk=None):
        team = self._team(team_pk)
        _check(
            perms.can_edit_team_settings(request.user, team),
            "Only product owners and managers edit the rotation.",
        )
        ser = s.RotationSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        services.team_rotation_set(team=team, actor=request.user, users=ser.validated_data["members"])
        return Response(_rotation_out(team))

"""The desk API: saved views (the owner's or a team's), and bulk actions on incidents.

Parse input, ask desk.permissions, call desk.services, serialize: the same predicates and
services as the browser."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User

from .. import permissions as perms
from .. import services
from ..models import SavedView
from ..selectors import saved_view_list
from . import serializers as s


class CanUseSavedViews(BasePermission):
    """Staff only; on one view, whoever may not see it gets 404 (it does not exist for them),
    as for someone else's personal view."""

    message = "Saved views are for Tandem staff."

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(view.kwargs.get("pk")) or perms.can_use_saved_views(request.user)


class SavedViewViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your views, your teams' shared views and (managers) every shared view. Someone else's
    personal view is a 404. Changed by the owner, or for a shared view by a manager."""

    serializer_class = s.SavedViewSerializer
    permission_classes = [IsAuthenticated, CanUseSavedViews]
    lookup_value_regex = r"\d+"
    filterset_fields = ["team"]
    ordering_fields = ["name", "updated_at", "id"]

    def get_queryset(self) -> Any:
        return saved_view_list(user=self.request.user)  # type: ignore[arg-type]

    def _read(self, view: SavedView, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=view.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def _editable(self) -> SavedView:
        view = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        if not perms.can_edit_saved_view(self.request.user, view):
            raise PermissionDenied("Only the view's owner or a manager can change a shared view.")
        return view

    @extend_schema(request=s.SavedViewInSerializer, responses={201: s.SavedViewSerializer})
    def create(self, request: Request) -> Response:
        data = s.SavedViewInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user
        assert isinstance(user, User)
        view = services.saved_view_create(actor=user, **data.validated_data)
        return self._read(view, status.HTTP_201_CREATED)

    @extend_schema(request=s.SavedViewPatchSerializer, responses=s.SavedViewSerializer)
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        view = self._editable()
        data = s.SavedViewPatchSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = request.user
        assert isinstance(user, User)
        view = services.saved_view_update(view=view, actor=user, **data.validated_data)
        return self._read(view)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view = self._editable()
        user = request.user
        assert isinstance(user, User)
        services.saved_view_delete(view=view, actor=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CanActInBulk(BasePermission):
    message = "Your role cannot act on incidents."

    def has_permission(self, request: Any, view: Any) -> bool:
        return perms.can_act_in_bulk(request.user)


class IncidentBulkApi(APIView):
    """Run one action on up to 200 incidents, each through the incidents service in its own
    transaction: 200 with what was done and what was refused (and why) per incident."""

    permission_classes = [IsAuthenticated, CanActInBulk]

    @extend_schema(
        request=s.BulkInSerializer, responses={200: s.BulkOutSerializer}, operation_id="incidents_bulk"
    )
    def post(self, request: Request) -> Response:
        data = s.BulkInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        user = request.user
        assert isinstance(user, User)
        assignee = user if v.get("assignee") == "me" else v.get("assignee")
        result = services.incidents_bulk_act(
            actor=user,
            action=v["action"],
            incidents=v["incidents"],
            data=services.BulkInput(
                assignee=assignee,
                status=v["status"],
                reason=v["reason"],
                resolution_code=v["resolution_code"],
                note=v["note"],
                problem=v.get("problem"),
            ),
            versions=v["versions"],
        )
        return Response(s.BulkOutSerializer(result.as_dict()).data)

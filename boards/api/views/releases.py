"""Boards API: releases and reason codes."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from boards import permissions, selectors, services
from boards.models import Board, ReasonCode, ReasonKind, Release

from .. import serializers as s
from .base import PAGE_PARAMETERS, BoardsApiView, lookup

RELEASE_LIST_PARAMETERS = [OpenApiParameter("board", int), *PAGE_PARAMETERS]


# ------------------------------------------------------------------ releases & reason codes
def _release_out(release: Release) -> dict:
    return s.ReleaseOutSerializer(selectors.release_api_get(release.pk)).data


class ReleaseListCreateApi(BoardsApiView):
    @extend_schema(
        operation_id="releaselistcreate_get",
        parameters=RELEASE_LIST_PARAMETERS,
        responses=s.ReleasePageSerializer,
    )
    def get(self, request):
        board = request.query_params.get("board", "")
        qs = selectors.release_api_list(int(board) if board.isdigit() else None)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(s.ReleaseOutSerializer(page, many=True).data)

    @extend_schema(
        operation_id="releaselistcreate_post",
        request=s.ReleaseCreateSerializer,
        responses={201: s.ReleaseOutSerializer},
    )
    def post(self, request):
        data = self.parse(s.ReleaseCreateSerializer)
        board = lookup(Board, data["board"], "board", label="board")
        self.check(permissions.can_manage_releases(request.user, board))
        release = services.release_create(
            board=board, name=data["name"], planned_for=data.get("planned_for"), actor=request.user
        )
        return Response(_release_out(release), status=status.HTTP_201_CREATED)


class ReleaseDetailApi(BoardsApiView):
    """A release with what it contained, so support can read it."""

    @extend_schema(operation_id="releasedetail_get", responses=s.ReleaseDetailOutSerializer)
    def get(self, request, pk):
        get_object_or_404(Release, pk=pk)
        return Response(s.ReleaseDetailOutSerializer(selectors.release_api_get(pk)).data)


class ReleaseDeployApi(BoardsApiView):
    @extend_schema(operation_id="releasedeploy_post", request=None, responses=s.ReleaseOutSerializer)
    def post(self, request, pk):
        release = get_object_or_404(Release, pk=pk)
        self.check(permissions.can_manage_releases(request.user, release.board))
        release = services.release_mark_deployed(release=release, actor=request.user)
        return Response(_release_out(release))


class ReasonCodeListApi(BoardsApiView):
    @extend_schema(
        operation_id="reasoncodelist_get",
        parameters=[OpenApiParameter("kind", enum=ReasonKind.values)],
        responses=s.ReasonCodeListSerializer,
    )
    def get(self, request):
        qs = ReasonCode.objects.filter(active=True).order_by("kind", "label")
        kind = request.query_params.get("kind")
        if kind:
            if kind not in ReasonKind.values:
                raise ValidationError({"kind": [f"Kind must be one of {', '.join(ReasonKind.values)}."]})
            qs = qs.filter(kind=kind)
        rows = list(qs)
        return Response(s.ReasonCodeListSerializer({"results": rows, "next": None, "count": len(rows)}).data)

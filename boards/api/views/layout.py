"""Boards API: boards, their columns and lanes."""

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from boards import permissions, selectors, services
from boards.models import Board, Column, Lane
from org.models import Team

from .. import serializers as s
from .base import PAGE_PARAMETERS, BoardsApiView, board_param, lookup


def board_payload(board: Board) -> dict:
    """The board endpoint's payload built in Python (the cards as records, not JSON text)."""
    return s.BoardOutSerializer(selectors.board_detail(board)).data


# ------------------------------------------------------------------ boards
class BoardListCreateApi(BoardsApiView):
    @extend_schema(
        operation_id="boardlistcreate_get", parameters=PAGE_PARAMETERS, responses=s.BoardPageSerializer
    )
    def get(self, request):
        qs = selectors.board_list().order_by("name")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(s.BoardSummarySerializer(page, many=True).data)

    @extend_schema(
        operation_id="boardlistcreate_post",
        request=s.BoardCreateSerializer,
        responses={201: s.BoardOutSerializer},
    )
    def post(self, request):
        self.check(permissions.can_create_board(request.user))
        data = self.parse(s.BoardCreateSerializer)
        teams = list(Team.objects.filter(pk__in=data["teams"]))
        missing = set(data["teams"]) - {t.pk for t in teams}
        if missing:
            raise ValidationError({"teams": [f"Unknown team: {pk}." for pk in sorted(missing)]})
        board = services.board_create(
            name=data["name"],
            key_prefix=data["key_prefix"],
            teams=teams,
            columns=[dict(c) for c in data["columns"]],
            lanes=[dict(ln) for ln in data["lanes"]],
            actor=request.user,
        )
        return Response(board_payload(board), status=status.HTTP_201_CREATED)


class BoardDetailApi(BoardsApiView):
    @extend_schema(operation_id="boarddetail_get", responses=s.BoardOutSerializer)
    def get(self, request, pk):
        board = get_object_or_404(Board.objects.prefetch_related("teams"), pk=pk)
        cards = selectors.board_cards_json(board, s.card_columns(s.BoardCardOutSerializer))
        if cards is None:
            return Response(board_payload(board))
        # The cards arrive as JSON text built by PostgreSQL: splice them in unparsed.
        layout = s.BoardLayoutOutSerializer(selectors.board_detail(board, with_cards=False)).data
        head = JSONRenderer().render({**layout, "cards": None}).decode()
        assert head.endswith('"cards":null}')  # noqa: S101 - the key is last by construction
        body = head[: -len("null}")] + cards + "}"
        return HttpResponse(body, content_type="application/json")

    @extend_schema(
        operation_id="boarddetail_patch", request=s.BoardPatchSerializer, responses=s.BoardOutSerializer
    )
    def patch(self, request, pk):
        board = get_object_or_404(Board, pk=pk)
        self.check(permissions.can_manage_board(request.user, board))
        data = self.parse(s.BoardPatchSerializer)
        teams = None
        if "teams" in data:
            teams = list(Team.objects.filter(pk__in=data["teams"]))
            missing = set(data["teams"]) - {t.pk for t in teams}
            if missing:
                raise ValidationError({"teams": [f"Unknown team: {pk}." for pk in sorted(missing)]})
        board = services.board_update(board=board, actor=request.user, name=data.get("name"), teams=teams)
        return Response(board_payload(board))


# ------------------------------------------------------------------ columns and lanes
def _column_out(column: Column) -> dict:
    return s.ColumnDetailOutSerializer(selectors.column_row(column)).data


def _lane_out(lane: Lane) -> dict:
    return s.LaneDetailOutSerializer(selectors.lane_row(lane)).data


class ColumnListCreateApi(BoardsApiView):
    """A board's workflow steps; managers and product owners add them."""

    pagination_class = None  # a few per board: the whole list, unpaged

    @extend_schema(
        operation_id="columnlistcreate_get",
        parameters=[OpenApiParameter("board", int, description="Only this board's rows.")],
        responses=s.ColumnDetailOutSerializer(many=True),
    )
    def get(self, request):
        rows = selectors.board_columns(board_param(request))
        return Response(s.ColumnDetailOutSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="columnlistcreate_post",
        request=s.ColumnCreateSerializer,
        responses={201: s.ColumnDetailOutSerializer},
    )
    def post(self, request):
        data = self.parse(s.ColumnCreateSerializer)
        board = lookup(Board, data.pop("board"), "board", label="board")
        self.check(permissions.can_manage_board(request.user, board))
        column = services.column_add(board=board, actor=request.user, **data)
        return Response(_column_out(column), status=status.HTTP_201_CREATED)


class ColumnDetailApi(BoardsApiView):
    @extend_schema(operation_id="columndetail_get", responses=s.ColumnDetailOutSerializer)
    def get(self, request, pk):
        return Response(_column_out(get_object_or_404(Column, pk=pk)))

    @extend_schema(
        operation_id="columndetail_patch",
        request=s.ColumnPatchSerializer,
        responses=s.ColumnDetailOutSerializer,
    )
    def patch(self, request, pk):
        column = get_object_or_404(Column, pk=pk)
        self.check(permissions.can_manage_board(request.user, column.board))
        data = self.parse(s.ColumnPatchSerializer)
        column = services.column_update(column=column, actor=request.user, **data)
        return Response(_column_out(column))


class LaneListCreateApi(BoardsApiView):
    """A board's swim lanes; managers and product owners add them."""

    pagination_class = None  # a few per board: the whole list, unpaged

    @extend_schema(
        operation_id="lanelistcreate_get",
        parameters=[OpenApiParameter("board", int, description="Only this board's rows.")],
        responses=s.LaneDetailOutSerializer(many=True),
    )
    def get(self, request):
        rows = selectors.board_lanes(board_param(request))
        return Response(s.LaneDetailOutSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="lanelistcreate_post",
        request=s.LaneCreateSerializer,
        responses={201: s.LaneDetailOutSerializer},
    )
    def post(self, request):
        data = self.parse(s.LaneCreateSerializer)
        board = lookup(Board, data.pop("board"), "board", label="board")
        self.check(permissions.can_manage_board(request.user, board))
        lane = services.lane_add(board=board, actor=request.user, **data)
        return Response(_lane_out(lane), status=status.HTTP_201_CREATED)


class LaneDetailApi(BoardsApiView):
    @extend_schema(operation_id="lanedetail_get", responses=s.LaneDetailOutSerializer)
    def get(self, request, pk):
        return Response(_lane_out(get_object_or_404(Lane, pk=pk)))

    @extend_schema(
        operation_id="lanedetail_patch", request=s.LanePatchSerializer, responses=s.LaneDetailOutSerializer
    )
    def patch(self, request, pk):
        lane = get_object_or_404(Lane, pk=pk)
        self.check(permissions.can_manage_board(request.user, lane.board))
        data = self.parse(s.LanePatchSerializer)
        lane = services.lane_update(lane=lane, actor=request.user, **data)
        return Response(_lane_out(lane))

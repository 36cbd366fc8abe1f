"""Boards API: parse input, check the permission predicate, call a service, serialize."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from boards import permissions, selectors, services
from boards.models import Board, Card, CardType, Column, Lane, ReasonCode, ReasonKind, Release
from org.models import Team
from tracker.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from tracker.api.pagination import CursorPagination

from . import serializers as s

PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number (from 1)."),
    OpenApiParameter("page_size", int, description="Rows per page (at most 500)."),
]
CARD_LIST_PARAMETERS = [
    *[OpenApiParameter(name, int) for name in ("board", "column", "lane", "sprint", "release", "assignee")],
    OpenApiParameter("type", enum=CardType.values),
    OpenApiParameter("blocked", bool),
    OpenApiParameter("search", str, description="A card key (exact) or words of its title."),
    OpenApiParameter(
        "ordering", enum=["rank", "created_at", "-created_at", "updated_at", "-updated_at", "backlog_rank"]
    ),
    OpenApiParameter("cursor", str, description="Opaque position from the `next` link of the previous page."),
    OpenApiParameter("page_size", int, description="Rows per page (default 50, at most 500)."),
]
RELEASE_LIST_PARAMETERS = [OpenApiParameter("board", int), *PAGE_PARAMETERS]


class CanReadBoards(BasePermission):
    def has_permission(self, request, view):
        return permissions.can_read_boards(request.user)


class BoardsApiView(APIView):
    permission_classes = [IsAuthenticated, CanReadBoards]

    def check(self, allowed: bool):
        if not allowed:
            raise PermissionDenied("Your role may not do this on boards.")

    def parse(self, serializer_class, **kwargs):
        ser = serializer_class(data=self.request.data, **kwargs)
        ser.is_valid(raise_exception=True)
        return ser.validated_data

    @property
    def pagination_class(self):
        from tracker.api.pagination import PageNumberPagination

        return PageNumberPagination


def _sprint_model():
    """The model a card's sprint points at (sprints.Sprint): boards name no app above them."""
    return Card._meta.get_field("sprint").related_model


def _lookup(model, pk, field, *, label, **extra):
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk, **extra).first()
    if obj is None:
        raise ValidationError({field: [f"Unknown {label}."]})
    return obj


def _reason(ref, field, kind):
    if ref in (None, ""):
        return None
    qs = ReasonCode.objects.filter(kind=kind, active=True)
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        reason = qs.filter(pk=int(ref)).first()
    else:
        reason = qs.filter(code=ref).first()
    if reason is None:
        raise ValidationError({field: [f"Unknown {ReasonKind(kind).label.lower()} reason code: {ref}."]})
    return reason


def _card_out(card_id):
    return selectors.card_api_rows(Card.objects.filter(pk=card_id))[0]


# ------------------------------------------------------------------ boards
class BoardListCreateApi(BoardsApiView):
    @extend_schema(
        operation_id="boardlistcreate_get", parameters=PAGE_PARAMETERS, responses=s.BoardPageSerializer
    )
    def get(self, request):
        qs = selectors.board_list().order_by("name")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        rows = [
            {
                "id": b.pk,
                "name": b.name,
                "key_prefix": b.key_prefix,
                "teams": [t.pk for t in b.teams.all()],
                "card_count": b.card_count,
            }
            for b in page
        ]
        return paginator.get_paginated_response(rows)

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
        return Response(selectors.board_api(board), status=status.HTTP_201_CREATED)


class BoardDetailApi(BoardsApiView):
    @extend_schema(operation_id="boarddetail_get", responses=s.BoardOutSerializer)
    def get(self, request, pk):
        board = get_object_or_404(Board.objects.prefetch_related("teams"), pk=pk)
        data = selectors.board_api(board, cards_json=True)
        if not isinstance(data["cards"], str):
            return Response(data)
        # The cards arrive as JSON text built by PostgreSQL: splice them in unparsed.
        cards = data.pop("cards")
        head = JSONRenderer().render({**data, "cards": None}).decode()
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
        return Response(selectors.board_api(board))


# ------------------------------------------------------------------ columns and lanes
def _column_out(column) -> dict:
    count = Card.objects.filter(column=column, cancelled_at__isnull=True).count()
    fields = ("id", "board_id", "name", "category", "position", "wip_min", "wip_max")
    row = {name.removesuffix("_id"): getattr(column, name) for name in fields}
    return {**row, "count": count}


def _lane_out(lane) -> dict:
    row = next(ln for ln in selectors.board_lanes(lane.board_id) if ln["id"] == lane.pk)
    keep = ("id", "name", "kind", "position", "wip_max", "in_progress")
    return {"board": lane.board_id, **{k: row[k] for k in keep}}


class ColumnListCreateApi(BoardsApiView):
    """A board's workflow steps; managers and product owners add them."""

    pagination_class = None  # a few per board: the whole list, unpaged

    @extend_schema(
        operation_id="columnlistcreate_get",
        parameters=[OpenApiParameter("board", int, description="Only this board's rows.")],
        responses=s.ColumnDetailOutSerializer(many=True),
    )
    def get(self, request):
        keep = ("id", "name", "category", "position", "wip_min", "wip_max", "count")
        rows = selectors.board_columns(_board_param(request))
        return Response([{"board": c["board_id"], **{k: c[k] for k in keep}} for c in rows])

    @extend_schema(
        operation_id="columnlistcreate_post",
        request=s.ColumnCreateSerializer,
        responses={201: s.ColumnDetailOutSerializer},
    )
    def post(self, request):
        data = self.parse(s.ColumnCreateSerializer)
        board = _lookup(Board, data.pop("board"), "board", label="board")
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
        keep = ("id", "name", "kind", "position", "wip_max", "in_progress")
        rows = selectors.board_lanes(_board_param(request))
        return Response([{"board": ln["board_id"], **{k: ln[k] for k in keep}} for ln in rows])

    @extend_schema(
        operation_id="lanelistcreate_post",
        request=s.LaneCreateSerializer,
        responses={201: s.LaneDetailOutSerializer},
    )
    def post(self, request):
        data = self.parse(s.LaneCreateSerializer)
        board = _lookup(Board, data.pop("board"), "board", label="board")
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


def _board_param(request) -> Board | None:
    """The `board` filter: None when absent (every board's rows)."""
    raw = request.query_params.get("board", "")
    if raw == "":
        return None
    board = Board.objects.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 19 else None
    if board is None:
        raise ValidationError({"board": ["Unknown board: give a board's id."]})
    return board


# ------------------------------------------------------------------ cards
class CardFilter(filters.FilterSet):
    board = filters.NumberFilter()
    column = filters.NumberFilter()
    lane = filters.NumberFilter()
    sprint = filters.NumberFilter()
    release = filters.NumberFilter()
    assignee = filters.NumberFilter()
    type = filters.ChoiceFilter(choices=CardType.choices)
    blocked = filters.BooleanFilter()
    search = filters.CharFilter(method="filter_search")

    class Meta:
        model = Card
        fields = ["board", "column", "lane", "sprint", "release", "assignee", "type", "blocked"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(key__iexact=value) | Q(title__icontains=value)) if value else queryset


# ?ordering= for the card list; every one ends on the id so the cursor never skips a row.
CARD_ORDERINGS = {
    "rank": ("board_id", "rank", "id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "-updated_at": ("-updated_at", "-id"),
    "backlog_rank": ("backlog_rank", "id"),
}


class CardListCreateApi(BoardsApiView):
    @extend_schema(
        operation_id="cardlistcreate_get", parameters=CARD_LIST_PARAMETERS, responses=s.CardPageSerializer
    )
    def get(self, request):
        ordering = request.query_params.get("ordering") or "rank"
        if ordering not in CARD_ORDERINGS:
            raise ValidationError({"ordering": [f"Order by one of: {', '.join(CARD_ORDERINGS)}."]})
        fields = CARD_ORDERINGS[ordering]
        fs = CardFilter(request.query_params, queryset=Card.objects.order_by(*fields))
        if not fs.is_valid():
            raise ValidationError(fs.errors)
        # Keyset pages over the ordering columns only; rows are then read values-based.
        paginator = CursorPagination()
        only = {"id", "board_id", "rank", *(f.lstrip("-") for f in fields)}
        page = paginator.paginate_queryset(fs.qs.only(*only), request, view=self)
        ids = [card.pk for card in page]
        rows = {r["id"]: r for r in selectors.card_api_rows(Card.objects.filter(pk__in=ids))}
        return paginator.get_paginated_response([rows[pk] for pk in ids if pk in rows])

    @extend_schema(
        operation_id="cardlistcreate_post",
        request=s.CardCreateSerializer,
        responses={201: s.CardOutSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request):
        data = self.parse(s.CardCreateSerializer)
        board = _lookup(Board, data["board"], "board", label="board")
        self.check(permissions.can_create_card(request.user, board))

        card = services.card_create(
            board=board,
            title=data["title"],
            description=data["description"],
            type=data["type"],
            class_of_service=data.get("class_of_service"),
            estimate=data.get("estimate"),
            column=_lookup(Column, data.get("column"), "column", label="column"),
            lane=_lookup(Lane, data.get("lane"), "lane", label="lane"),
            position=data.get("position"),
            assignee=_lookup(
                get_user_model(), data.get("assignee"), "assignee", label="user", is_active=True
            ),
            sprint=_lookup(_sprint_model(), data.get("sprint"), "sprint", label="sprint"),
            release=_lookup(Release, data.get("release"), "release", label="release"),
            due_date=data.get("due_date"),
            override_reason=_reason(data.get("override_reason"), "override_reason", ReasonKind.WIP_OVERRIDE),
            actor=request.user,
        )
        return Response(_card_out(card.pk), status=status.HTTP_201_CREATED)


class CardDetailApi(BoardsApiView):
    @extend_schema(operation_id="carddetail_get", responses=s.CardOutSerializer)
    def get(self, request, pk):
        get_object_or_404(Card, pk=pk)
        return Response(_card_out(pk))

    @extend_schema(
        operation_id="carddetail_patch", request=s.CardPatchSerializer, responses=s.CardOutSerializer
    )
    def patch(self, request, pk):
        card = get_object_or_404(Card, pk=pk)
        self.check(permissions.can_edit_card(request.user, card))
        data = self.parse(s.CardPatchSerializer)

        kwargs = {}
        for name in ("title", "description", "type", "class_of_service", "due_date"):
            if name in data:
                kwargs[name] = data[name]
        if "assignee" in data:
            kwargs["assignee"] = _lookup(
                get_user_model(), data["assignee"], "assignee", label="user", is_active=True
            )
        if "release" in data:
            kwargs["release"] = _lookup(Release, data["release"], "release", label="release")
        if "sprint" in data:
            kwargs["sprint"] = _lookup(_sprint_model(), data["sprint"], "sprint", label="sprint")
        if "estimate" in data:
            kwargs["estimate"] = data["estimate"]
        services.card_update(card=card, actor=request.user, reason=data["reason"], **kwargs)
        return Response(_card_out(pk))


class CardMoveApi(BoardsApiView):
    @extend_schema(operation_id="cardmove_post", request=s.CardMoveSerializer, responses=s.CardOutSerializer)
    def post(self, request, pk):
        card = get_object_or_404(Card, pk=pk)
        self.check(permissions.can_move_card(request.user, card))
        data = self.parse(s.CardMoveSerializer)
        services.card_move(
            card=card,
            column=_lookup(Column, data["column"], "column", label="column"),
            lane=_lookup(Lane, data.get("lane"), "lane", label="lane"),
            position=data.get("position"),
            override_reason=_reason(data.get("override_reason"), "override_reason", ReasonKind.WIP_OVERRIDE),
            override_note=data["override_note"],
            unblock=data["unblock"],
            actor=request.user,
        )
        return Response(_card_out(pk))


class CardPullApi(BoardsApiView):
    @extend_schema(operation_id="cardpull_post", request=s.CardPullSerializer, responses=s.CardOutSerializer)
    def post(self, request, pk):
        card = get_object_or_404(Card, pk=pk)
        self.check(permissions.can_pull_card(request.user, card))
        data = self.parse(s.CardPullSerializer)
        services.card_pull(
            card=card,
            actor=request.user,
            override_reason=_reason(data.get("override_reason"), "override_reason", ReasonKind.WIP_OVERRIDE),
            override_note=data["override_note"],
        )
        return Response(_card_out(pk))


class CardBlockApi(BoardsApiView):
    @extend_schema(
        operation_id="cardblock_post", request=s.CardBlockSerializer, responses=s.CardOutSerializer
    )
    def post(self, request, pk):
        card = get_object_or_404(Card, pk=pk)
        self.check(permissions.can_block_card(request.user, card))
        data = self.parse(s.CardBlockSerializer)
        services.card_block(
            card=card,
            reason=_reason(data["reason"], "reason", ReasonKind.BLOCK),
            note=data["note"],
            actor=request.user,
        )
        return Response(_card_out(pk))


class CardCancelApi(BoardsApiView):
    """Cancel a card: it leaves its sprint and linked incidents return to the support queue."""

    @extend_schema(
        operation_id="cardcancel_post", request=s.CardCancelSerializer, responses=s.CardOutSerializer
    )
    def post(self, request, pk):
        card = get_object_or_404(Card, pk=pk)
        self.check(permissions.can_edit_card(request.user, card))
        data = self.parse(s.CardCancelSerializer)
        services.card_cancel(card=card, actor=request.user, reason=data["reason"])
        return Response(_card_out(pk))


class CardUnblockApi(BoardsApiView):
    @extend_schema(operation_id="cardunblock_post", request=None, responses=s.CardOutSerializer)
    def post(self, request, pk):
        card = get_object_or_404(Card, pk=pk)
        self.check(permissions.can_block_card(request.user, card))
        services.card_unblock(card=card, actor=request.user)
        return Response(_card_out(pk))


# ------------------------------------------------------------------ releases & reason codes
def _release_out(release, card_count=None):
    return {
        "id": release.pk,
        "board": release.board_id,
        "name": release.name,
        "planned_for": release.planned_for,
        "deployed_at": release.deployed_at,
        "card_count": card_count if card_count is not None else getattr(release, "card_count", None),
    }


class ReleaseListCreateApi(BoardsApiView):
    @extend_schema(
        operation_id="releaselistcreate_get",
        parameters=RELEASE_LIST_PARAMETERS,
        responses=s.ReleasePageSerializer,
    )
    def get(self, request):
        qs = Release.objects.annotate(card_count=Count("cards")).order_by("board_id", "-planned_for", "name")
        if request.query_params.get("board", "").isdigit():
            qs = qs.filter(board_id=request.query_params["board"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([_release_out(r) for r in page])

    @extend_schema(
        operation_id="releaselistcreate_post",
        request=s.ReleaseCreateSerializer,
        responses={201: s.ReleaseOutSerializer},
    )
    def post(self, request):
        data = self.parse(s.ReleaseCreateSerializer)
        board = _lookup(Board, data["board"], "board", label="board")
        self.check(permissions.can_manage_releases(request.user, board))
        release = services.release_create(
            board=board, name=data["name"], planned_for=data.get("planned_for"), actor=request.user
        )
        return Response(_release_out(release, 0), status=status.HTTP_201_CREATED)


class ReleaseDetailApi(BoardsApiView):
    """A release with what it contained, so support can read it."""

    @extend_schema(operation_id="releasedetail_get", responses=s.ReleaseDetailOutSerializer)
    def get(self, request, pk):
        release = get_object_or_404(Release, pk=pk)
        cards = list(release.cards.order_by("key").values("id", "key", "title", "type", "done_at"))
        return Response({**_release_out(release, len(cards)), "cards": cards})


class ReleaseDeployApi(BoardsApiView):
    @extend_schema(operation_id="releasedeploy_post", request=None, responses=s.ReleaseOutSerializer)
    def post(self, request, pk):
        release = get_object_or_404(Release, pk=pk)
        self.check(permissions.can_manage_releases(request.user, release.board))
        release = services.release_mark_deployed(release=release, actor=request.user)
        return Response(_release_out(release, release.cards.count()))


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
        rows = list(qs.values("id", "kind", "code", "label"))
        return Response({"results": rows, "next": None, "count": len(rows)})

"""Boards API: cards, their moves, pulls, blocks and cancellation."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from boards import permissions, selectors, services
from boards.models import Board, Card, CardType, Column, Lane, ReasonCode, ReasonKind, Release
from tracker.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from tracker.api.pagination import CursorPagination

from .. import serializers as s
from .base import BoardsApiView, lookup, reason_ref, sprint_model

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


def _wip_override(data: dict) -> ReasonCode | None:
    return reason_ref(data.get("override_reason"), "override_reason", ReasonKind.WIP_OVERRIDE)


def _card_out(pk: int, *, code: int = status.HTTP_200_OK) -> Response:
    return Response(s.CardOutSerializer(selectors.card_api_get(pk)).data, status=code)


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
        cards = {
            c.pk: c for c in selectors.card_api_list(Card.objects.filter(pk__in=ids), with_forecast=True)
        }
        rows = s.CardOutSerializer([cards[pk] for pk in ids if pk in cards], many=True).data
        return paginator.get_paginated_response(rows)

    @extend_schema(
        operation_id="cardlistcreate_post",
        request=s.CardCreateSerializer,
        responses={201: s.CardOutSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request):
        data = self.parse(s.CardCreateSerializer)
        board = lookup(Board, data["board"], "board", label="board")
        self.check(permissions.can_create_card(request.user, board))

        card = services.card_create(
            board=board,
            title=data["title"],
            description=data["description"],
            type=data["type"],
            class_of_service=data.get("class_of_service"),
            estimate=data.get("estimate"),
            column=lookup(Column, data.get("column"), "column", label="column"),
            lane=lookup(Lane, data.get("lane"), "lane", label="lane"),
            position=data.get("position"),
            assignee=lookup(get_user_model(), data.get("assignee"), "assignee", label="user", is_active=True),
            sprint=lookup(sprint_model(), data.get("sprint"), "sprint", label="sprint"),
            release=lookup(Release, data.get("release"), "release", label="release"),
            due_date=data.get("due_date"),
            override_reason=reason_ref(
                data.get("override_reason"), "override_reason", ReasonKind.WIP_OVERRIDE
            ),
            actor=request.user,
        )
        return _card_out(card.pk, code=status.HTTP_201_CREATED)


class CardDetailApi(BoardsApiView):
    @extend_schema(operation_id="carddetail_get", responses=s.CardOutSerializer)
    def get(self, request, pk):
        get_object_or_404(Card, pk=pk)
        return _card_out(pk)

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
            kwargs["assignee"] = lookup(
                get_user_model(), data["assignee"], "assignee", label="user", is_active=True
            )
        if "release" in data:
            kwargs["release"] = lookup(Release, data["release"], "release", label="release")
        if "sprint" in data:
            kwargs["sprint"] = lookup(sprint_model(), data["sprint"], "sprint", label="sprint")
        if "estimate" in data:
            kwargs["estimate"] = data["estimate"]
        services.card_update(card=card, actor=request.user, reason=data["reason"], **kwargs)
        return _card_out(pk)


class CardMoveApi(BoardsApiView):
    @extend_schema(operation_id="cardmove_post", request=s.CardMoveSerializer, responses=s.CardOutSerializer)
    def post(self, request, pk):
        card = get_object_or_404(Card, pk=pk)
        self.check(permissions.can_move_card(request.user, card))
        data = self.parse(s.CardMoveSerializer)
        services.card_move(
            card=card,
            column=lookup(Column, data["column"], "column", label="column"),
            lane=lookup(Lane, data.get("lane"), "lane", label="lane"),
            position=data.get("position"),
            override_reason=reason_ref(
                data.get("override_reason"), "override_reason", ReasonKind.WIP_OVERRIDE
            ),
            override_note=data["override_note"],
            unblock=data["unblock"],
            actor=request.user,
        )
        return _card_out(pk)


class CardPullApi(BoardsApiView):
    @extend_schema(operation_id="cardpull_post", request=s.CardPullSerializer, responses=s.CardOutSerializer)
    def post(self, request, pk):
        card = get_object_or_404(Card, pk=pk)
        self.check(permissions.can_pull_card(request.user, card))
        data = self.parse(s.CardPullSerializer)
        services.card_pull(
            card=card,
            actor=request.user,
            override_reason=reason_ref(
                data.get("override_reason"), "override_reason", ReasonKind.WIP_OVERRIDE
            ),
            override_note=data["override_note"],
        )
        return _card_out(pk)


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
            reason=reason_ref(data["reason"], "reason", ReasonKind.BLOCK),
            note=data["note"],
            actor=request.user,
        )
        return _card_out(pk)


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
        return _card_out(pk)


class CardUnblockApi(BoardsApiView):
    @extend_schema(operation_id="cardunblock_post", request=None, responses=s.CardOutSerializer)
    def post(self, request, pk):
        card = get_object_or_404(Card, pk=pk)
        self.check(permissions.can_block_card(request.user, card))
        services.card_unblock(card=card, actor=request.user)
        return _card_out(pk)

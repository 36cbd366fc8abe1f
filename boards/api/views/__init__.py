"""Boards API views, one module per resource: parse input, check the permission predicate,
call a service, return the response's serializer (boards.api.serializers)."""

from .cards import (
    CardBlockApi,
    CardCancelApi,
    CardDetailApi,
    CardListCreateApi,
    CardMoveApi,
    CardPullApi,
    CardUnblockApi,
)
from .layout import (
    BoardDetailApi,
    BoardListCreateApi,
    ColumnDetailApi,
    ColumnListCreateApi,
    LaneDetailApi,
    LaneListCreateApi,
    board_payload,
)
from .releases import ReasonCodeListApi, ReleaseDeployApi, ReleaseDetailApi, ReleaseListCreateApi

__all__ = [
    "BoardDetailApi",
    "BoardListCreateApi",
    "CardBlockApi",
    "CardCancelApi",
    "CardDetailApi",
    "CardListCreateApi",
    "CardMoveApi",
    "CardPullApi",
    "CardUnblockApi",
    "ColumnDetailApi",
    "ColumnListCreateApi",
    "LaneDetailApi",
    "LaneListCreateApi",
    "ReasonCodeListApi",
    "ReleaseDeployApi",
    "ReleaseDetailApi",
    "ReleaseListCreateApi",
    "board_payload",
]

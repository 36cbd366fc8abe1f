"""What every boards API view shares: the read permission, the base view, input lookups."""

from django.core.exceptions import PermissionDenied, ValidationError
from drf_spectacular.utils import OpenApiParameter
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.views import APIView

from boards import permissions
from boards.models import Board, Card, ReasonCode, ReasonKind
from tracker.api.pagination import PageNumberPagination

PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number (from 1)."),
    OpenApiParameter("page_size", int, description="Rows per page (at most 500)."),
]


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
        return PageNumberPagination


def sprint_model():
    """The model a card's sprint points at (sprints.Sprint): boards name no app above them."""
    return Card._meta.get_field("sprint").related_model


def lookup(model, pk, field, *, label, **extra):
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk, **extra).first()
    if obj is None:
        raise ValidationError({field: [f"Unknown {label}."]})
    return obj


def reason_ref(ref, field, kind):
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


def board_param(request) -> Board | None:
    """The `board` filter: None when absent (every board's rows)."""
    raw = request.query_params.get("board", "")
    if raw == "":
        return None
    board = Board.objects.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 19 else None
    if board is None:
        raise ValidationError({"board": ["Unknown board: give a board's id."]})
    return board

"""Who may do what on boards. The browser views and the API call these same predicates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.roles import Role, has_role, is_staff_member

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from .models import Board, Card

    AnyUser = AbstractBaseUser | AnonymousUser

CARD_WORKERS = (Role.DEVELOPER, Role.PRODUCT_OWNER, Role.MANAGER)
BOARD_ADMINS = (Role.PRODUCT_OWNER, Role.MANAGER)


def can_read_boards(user: AnyUser) -> bool:
    """Everyone with a role reads boards, cards, releases and flow metrics."""
    return is_staff_member(user)


def can_create_card(user: AnyUser, board: Board | None = None) -> bool:
    return has_role(user, *CARD_WORKERS)


def can_edit_card(user: AnyUser, card: Card | None = None) -> bool:
    return has_role(user, *CARD_WORKERS)


def can_move_card(user: AnyUser, card: Card | None = None) -> bool:
    return has_role(user, *CARD_WORKERS)


def can_pull_card(user: AnyUser, card: Card | None = None) -> bool:
    return has_role(user, *CARD_WORKERS)


def can_block_card(user: AnyUser, card: Card | None = None) -> bool:
    return has_role(user, *CARD_WORKERS)


def can_create_board(user: AnyUser) -> bool:
    return has_role(user, *BOARD_ADMINS)


def can_manage_board(user: AnyUser, board: Board | None = None) -> bool:
    """Rename a board, change its teams, columns, lanes and WIP limits."""
    return has_role(user, *BOARD_ADMINS)


def can_manage_releases(user: AnyUser, board: Board | None = None) -> bool:
    return has_role(user, *CARD_WORKERS)

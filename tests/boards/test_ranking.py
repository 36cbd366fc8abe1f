"""One ranking scheme for the board's cells and the product backlog (boards.services.ranking)."""

import pytest

from boards import services
from boards.services import ranking
from boards.services.ranking import RANK_GAP
from sprints import services as sprint_services

from .factories import BoardFactory, CardFactory, column_of, lane_of

pytestmark = pytest.mark.django_db


def test_rank_arithmetic():
    assert ranking.rank_between(None, None) == 0
    assert ranking.rank_between(None, 10) == 10 - RANK_GAP
    assert ranking.rank_between(10, None) == 10 + RANK_GAP
    assert ranking.rank_between(10, 20) == 15
    assert ranking.rank_between(10, 11) is None  # no room: the caller spreads the list
    assert ranking.spread(3) == [RANK_GAP, 2 * RANK_GAP, 3 * RANK_GAP]
    assert ranking.spread(2, start=-5) == [-5, RANK_GAP - 5]
    assert ranking.ranks_above(0, 2) == [-2 * RANK_GAP, -RANK_GAP]
    assert (ranking.rank_above(None), ranking.rank_below(None)) == (0, 0)


def test_a_full_cell_is_spread_out_before_the_insert(developer_user):
    board = BoardFactory()
    ready, lane = column_of(board, "ready"), lane_of(board, "standard")
    first = CardFactory(board=board, column=ready, lane=lane, rank=10)
    second = CardFactory(board=board, column=ready, lane=lane, rank=11)
    card = services.card_create(
        board=board, title="Between", column=ready, lane=lane, position=1, actor=developer_user
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.rank, card.rank, second.rank) == (RANK_GAP, RANK_GAP + RANK_GAP // 2, 2 * RANK_GAP)


def test_the_backlog_ranks_with_the_same_gap(developer_user):
    board = BoardFactory()
    low = CardFactory(board=board, backlog_rank=100)
    card = CardFactory(board=board, backlog_rank=200)
    sprint_services.card_rank_board_edge(card=card, top=True)
    assert card.backlog_rank == low.backlog_rank - RANK_GAP
    sprint_services.card_rank_board_edge(card=card, top=False)
    assert card.backlog_rank == low.backlog_rank + RANK_GAP

import pytest
from django.core.exceptions import ValidationError

from boards import services
from boards.models import Card, CardMove, CardType, ColumnCategory, LaneKind, ReasonKind
from tracker.exceptions import TransitionNotAllowed, WipLimitExceeded

from .factories import BoardFactory, CardFactory, ReasonCodeFactory, column_of, lane_of

pytestmark = pytest.mark.django_db


def cell_keys(column, lane):
    return list(
        Card.objects.filter(column=column, lane=lane).order_by("rank", "id").values_list("key", flat=True)
    )


def test_card_create_gets_key_and_initial_move(developer_user):
    board = BoardFactory()
    card = services.card_create(board=board, title="Story", actor=developer_user)
    assert card.key.startswith("DEV-")
    assert card.column.category == ColumnCategory.BACKLOG
    move = CardMove.objects.get(card=card)
    assert move.from_column is None and move.to_column == card.column and move.actor == developer_user


def test_keys_are_sequential(developer_user):
    board = BoardFactory()
    a = services.card_create(board=board, title="a", actor=developer_user)
    b = services.card_create(board=board, title="b", actor=developer_user)
    assert int(b.key.split("-")[1]) == int(a.key.split("-")[1]) + 1


def test_production_defect_enters_top_of_ready_in_expedite_lane(developer_user):
    board = BoardFactory(columns__wip={ColumnCategory.READY: (None, 1)})
    ready, expedite = column_of(board, ColumnCategory.READY), lane_of(board, LaneKind.EXPEDITE)
    first = services.card_create(board=board, title="x", actor=developer_user, column=ready, lane=expedite)
    defect = services.card_create(
        board=board, title="prod", actor=developer_user, type=CardType.PRODUCTION_DEFECT
    )
    assert (defect.column, defect.lane) == (ready, expedite)
    assert cell_keys(ready, expedite) == [defect.key, first.key]


def test_move_positions_within_cell(developer_user):
    board = BoardFactory()
    ready, lane = column_of(board, ColumnCategory.READY), lane_of(board)
    cards = [
        services.card_create(board=board, title=str(i), actor=developer_user, column=ready) for i in range(3)
    ]
    keys = [c.key for c in cards]
    services.card_move(card=cards[2], column=ready, lane=lane, position=0, actor=developer_user)
    assert cell_keys(ready, lane) == [keys[2], keys[0], keys[1]]
    services.card_move(card=cards[2], column=ready, lane=lane, position=1, actor=developer_user)
    assert cell_keys(ready, lane) == [keys[0], keys[2], keys[1]]
    # a reorder in the same cell is not a move in the history
    assert CardMove.objects.filter(card=cards[2]).count() == 1


def test_rank_renumbers_when_no_gap_left(developer_user):
    board = BoardFactory()
    ready, lane = column_of(board, ColumnCategory.READY), lane_of(board)
    a = CardFactory(board=board, column=ready, lane=lane, rank=10)
    b = CardFactory(board=board, column=ready, lane=lane, rank=11)
    c = CardFactory(board=board, column=ready, lane=lane, rank=12)
    services.card_move(card=c, column=ready, lane=lane, position=1, actor=developer_user)
    assert cell_keys(ready, lane) == [a.key, c.key, b.key]


def test_wip_max_refuses_then_override_recorded(developer_user):
    board = BoardFactory(columns__wip={ColumnCategory.IN_PROGRESS: (None, 1)})
    doing = column_of(board, ColumnCategory.IN_PROGRESS)
    CardFactory(board=board, column=doing)
    card = CardFactory(board=board)
    with pytest.raises(WipLimitExceeded):
        services.card_move(card=card, column=doing, actor=developer_user)
    card.refresh_from_db()
    assert card.column.category == ColumnCategory.BACKLOG
    reason = ReasonCodeFactory(kind=ReasonKind.WIP_OVERRIDE, code="incident")
    services.card_move(card=card, column=doing, actor=developer_user, override_reason=reason)
    move = CardMove.objects.filter(card=card).latest("id")
    assert move.override_reason == reason and move.to_column == doing


def test_block_reason_cannot_override_wip(developer_user):
    board = BoardFactory(columns__wip={ColumnCategory.IN_PROGRESS: (None, 0)})
    card = CardFactory(board=board)
    with pytest.raises(ValidationError):
        services.card_move(
            card=card,
            column=column_of(board, ColumnCategory.IN_PROGRESS),
            actor=developer_user,
            override_reason=ReasonCodeFactory(kind=ReasonKind.BLOCK),
        )


def test_pull_assigns_and_moves_to_first_in_progress(developer_user):
    board = BoardFactory()
    card = CardFactory(board=board, column=column_of(board, ColumnCategory.READY))
    services.card_pull(card=card, actor=developer_user)
    card.refresh_from_db()
    assert card.assignee == developer_user
    assert card.column.category == ColumnCategory.IN_PROGRESS
    assert card.started_at is not None and card.done_at is None


def test_pull_from_backlog_refused(developer_user):
    card = CardFactory()
    with pytest.raises(TransitionNotAllowed):
        services.card_pull(card=card, actor=developer_user)


def test_done_timestamps_follow_category(developer_user):
    board = BoardFactory()
    card = CardFactory(board=board)
    services.card_move(card=card, column=column_of(board, ColumnCategory.DONE), actor=developer_user)
    card.refresh_from_db()
    assert card.done_at and card.started_at
    services.card_move(card=card, column=column_of(board, ColumnCategory.IN_PROGRESS), actor=developer_user)
    card.refresh_from_db()
    assert card.done_at is None


@pytest.mark.parametrize("case", ["other_board_column", "other_board_lane", "negative_position"])
def test_bad_moves_raise_validation_and_move_nothing(developer_user, case):
    board, other = BoardFactory(), BoardFactory()
    card = CardFactory(board=board)
    kwargs = {"column": column_of(board, ColumnCategory.READY)}
    if case == "other_board_column":
        kwargs["column"] = column_of(other, ColumnCategory.READY)
    elif case == "other_board_lane":
        kwargs["lane"] = lane_of(other)
    else:
        kwargs["position"] = -1
    with pytest.raises(ValidationError):
        services.card_move(card=card, actor=developer_user, **kwargs)
    card.refresh_from_db()
    assert card.column.category == ColumnCategory.BACKLOG
    assert not CardMove.objects.exists()


def test_block_and_unblock_record_periods(developer_user):
    card = CardFactory()
    reason = ReasonCodeFactory(kind=ReasonKind.BLOCK, code="vendor")
    services.card_block(card=card, reason=reason, note="waiting", actor=developer_user)
    card.refresh_from_db()
    assert card.blocked and card.blocked_since and card.block_reason == reason
    services.card_unblock(card=card, actor=developer_user)
    card.refresh_from_db()
    assert not card.blocked and card.block_periods.get().ended_at is not None

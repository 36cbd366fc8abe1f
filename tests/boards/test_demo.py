import pytest

from boards import demo
from boards.models import Board, Card, CardMove, ColumnCategory
from tracker import demo as tracker_demo

pytestmark = pytest.mark.django_db


def test_demo_board_tells_a_story_and_is_idempotent():
    ctx = tracker_demo.seed_organisation(lambda m: None)
    demo.seed(ctx, lambda m: None)
    board = Board.objects.get(name=demo.BOARD_NAME)
    assert ctx.extra["board"] == board
    assert set(board.teams.values_list("name", flat=True)) == {"Payments Dev", "Portal Dev"}
    assert [c.name for c in board.columns.all()] == ["Backlog", "Ready", "In progress", "Review", "Done"]
    assert board.cards.count() >= 60
    assert board.cards.filter(column__category=ColumnCategory.DONE).count() >= 15
    assert board.cards.filter(column__category=ColumnCategory.IN_PROGRESS).exists()
    assert board.cards.filter(blocked=True).exists()
    assert board.cards.filter(type="production_defect", lane__kind="expedite").exists()
    assert board.releases.filter(deployed_at__isnull=False).exists()
    counts = (Card.objects.count(), CardMove.objects.count())
    demo.seed(ctx, lambda m: None)
    assert (Card.objects.count(), CardMove.objects.count()) == counts

"""The WIP maximum holds under concurrent pulls on PostgreSQL (each thread its own connection)."""

from functools import partial

import pytest
from django.db import connection

from boards import services
from boards.models import Card, CardMove, ColumnCategory
from tests.factories import UserFactory
from tests.threads import at_once
from tracker.exceptions import WipLimitExceeded

from .factories import BoardFactory, CardFactory, column_of

PULLERS = 16
ROUNDS = 20


def _pull_all(cards, users):
    calls = [partial(services.card_pull, card=c, actor=u) for c, u in zip(cards, users, strict=True)]
    return at_once(*calls, name_errors={WipLimitExceeded: "wip"})


@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_pulls_into_the_last_slot():
    assert connection.vendor == "postgresql"
    users = [UserFactory(roles=["developer"]) for _ in range(PULLERS)]
    for round_no in range(ROUNDS):
        board = BoardFactory(columns__wip={ColumnCategory.IN_PROGRESS: (None, 3)})
        doing = column_of(board, ColumnCategory.IN_PROGRESS)
        ready = column_of(board, ColumnCategory.READY)
        CardFactory.create_batch(2, board=board, column=doing)  # one free slot left
        cards = CardFactory.create_batch(PULLERS, board=board, column=ready)
        results = _pull_all(cards, users)
        assert sorted(results) == ["ok"] + ["wip"] * (PULLERS - 1), (round_no, results)
        assert Card.objects.filter(column=doing).count() == 3
        assert CardMove.objects.filter(card__board=board, to_column=doing).count() == 1
        pulled = Card.objects.get(column=doing, assignee__isnull=False)
        assert Card.objects.filter(board=board, assignee__isnull=False).get() == pulled


@pytest.mark.django_db(transaction=True)
def test_concurrent_pulls_of_expedite_cards_respect_the_lane_limit():
    from boards.models import LaneKind

    from .factories import lane_of

    users = [UserFactory(roles=["developer"]) for _ in range(8)]
    for round_no in range(5):
        board = BoardFactory()
        expedite = lane_of(board, LaneKind.EXPEDITE)
        services.lane_update(lane=expedite, actor=users[0], wip_max=1)
        ready = column_of(board, ColumnCategory.READY)
        cards = CardFactory.create_batch(8, board=board, column=ready, lane=expedite)
        results = _pull_all(cards, users)
        assert sorted(results) == ["ok"] + ["wip"] * 7, (round_no, results)
        assert Card.objects.filter(lane=expedite, column__category=ColumnCategory.IN_PROGRESS).count() == 1


@pytest.mark.django_db(transaction=True)
def test_pulls_and_new_cards_in_the_same_lane_never_deadlock():
    """A pull holds the in-progress column and the lane while its move row references the
    ready column; a card created into that ready column and lane at the same instant holds
    the ready column while its row references the lane. Neither lock may block the other's
    reference (both are FOR NO KEY UPDATE)."""
    from boards.models import LaneKind

    from .factories import lane_of

    dev = UserFactory(roles=["developer"])
    for round_no in range(15):
        board = BoardFactory()
        expedite = lane_of(board, LaneKind.EXPEDITE)
        services.lane_update(lane=expedite, actor=dev, wip_max=5)
        ready = column_of(board, ColumnCategory.READY)
        card = CardFactory(board=board, column=ready, lane=expedite)
        outcomes = at_once(
            partial(services.card_pull, card=card, actor=dev),
            partial(
                services.card_create, board=board, title="Hotfix", column=ready, lane=expedite, actor=dev
            ),
        )
        assert outcomes == ["ok", "ok"], (round_no, outcomes)

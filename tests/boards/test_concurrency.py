"""The WIP maximum holds under concurrent pulls on PostgreSQL (each thread its own connection)."""

import threading

import pytest
from django.db import connection

from boards import services
from boards.models import Card, CardMove, ColumnCategory
from tests.factories import UserFactory
from tracker.exceptions import WipLimitExceeded

from .factories import BoardFactory, CardFactory, column_of

PULLERS = 16
ROUNDS = 20


def _pull_all(cards, users):
    barrier = threading.Barrier(len(cards))
    results = []
    lock = threading.Lock()

    def worker(card, user):
        try:
            barrier.wait()
            services.card_pull(card=card, actor=user)
            outcome = "ok"
        except WipLimitExceeded:
            outcome = "wip"
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcome = repr(exc)
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker, args=(c, u)) for c, u in zip(cards, users, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


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


def _at_once(*calls):
    """Run each call in its own thread and connection, released together; their outcomes."""
    barrier, outcomes = threading.Barrier(len(calls)), []

    def run(call):
        try:
            barrier.wait()
            call()
            outcomes.append("ok")
        except Exception as exc:  # noqa: BLE001 - reported by the caller's assertion
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_pulls_and_new_cards_in_the_same_lane_never_deadlock():
    """A pull holds the in-progress column and the lane while its move row references the
    ready column; a card created into that ready column and lane at the same instant holds
    the ready column while its row references the lane. Neither lock may block the other's
    reference (both are FOR NO KEY UPDATE)."""
    from functools import partial

    from boards.models import LaneKind

    from .factories import lane_of

    dev = UserFactory(roles=["developer"])
    for round_no in range(15):
        board = BoardFactory()
        expedite = lane_of(board, LaneKind.EXPEDITE)
        services.lane_update(lane=expedite, actor=dev, wip_max=5)
        ready = column_of(board, ColumnCategory.READY)
        card = CardFactory(board=board, column=ready, lane=expedite)
        outcomes = _at_once(
            partial(services.card_pull, card=card, actor=dev),
            partial(
                services.card_create, board=board, title="Hotfix", column=ready, lane=expedite, actor=dev
            ),
        )
        assert outcomes == ["ok", "ok"], (round_no, outcomes)

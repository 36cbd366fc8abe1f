"""The fix forecast's cache and reads (boards.forecasting, boards.selectors): inputs from the
board, one pass per board, never stale after a move, incidents' forecasts."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from boards import forecasting, selectors, services
from boards.models import BoardForecastRun, Card, ColumnCategory, LaneKind
from incidents.services import incident_create
from tests.boards.factories import BoardFactory, CardFactory, column_of, lane_of
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def _history(board, *, kind=LaneKind.STANDARD, per_day=1, days=28):
    """`per_day` cards done on each of the last `days` days in the lane class."""
    done = column_of(board, ColumnCategory.DONE)
    lane = lane_of(board, kind)
    now = timezone.now()
    cards = []
    for d in range(1, days + 1):
        for i in range(per_day):
            at = now - timedelta(days=d)
            cards.append(
                CardFactory.build(
                    board=board,
                    column=done,
                    lane=lane,
                    key=f"H{kind[0]}-{board.pk}-{d}-{i}",
                    created_at=at - timedelta(days=3),
                    started_at=at - timedelta(days=2),
                    done_at=at,
                )
            )
    Card.objects.bulk_create(cards)


def _open(board, category, n, *, kind=LaneKind.STANDARD, prefix="O"):
    column = column_of(board, category)
    lane = lane_of(board, kind)
    return [
        CardFactory(board=board, column=column, lane=lane, key=f"{prefix}-{board.pk}-{category}-{i}", rank=i)
        for i in range(n)
    ]


@pytest.fixture
def new_incident(desk_user):
    service = ServiceFactory()

    def make():
        return incident_create(actor=desk_user, title="Refunds fail", service=service)

    return make


@pytest.fixture
def board():
    board = BoardFactory()
    _history(board)
    return board


def test_a_card_further_down_the_queue_is_forecast_later(board):
    ready = _open(board, ColumnCategory.READY, 10)
    first, last = (selectors.card_fix_forecast(c) for c in (ready[0], ready[-1]))
    assert first.ok and last.ok
    assert first.cards_ahead == 0 and last.cards_ahead == 9
    assert first.p50 <= first.p85 and last.p50 <= last.p85
    assert last.p85 > first.p85
    # one card done per day, ten cards: about ten days out
    assert timezone.localdate() + timedelta(days=7) <= last.p50 <= timezone.localdate() + timedelta(days=12)


def test_moving_a_card_ahead_or_behind_changes_the_forecast(board):
    ready = _open(board, ColumnCategory.READY, 8)
    card = ready[-1]
    before = selectors.card_fix_forecast(card)
    services.card_move(card=card, column=card.column, position=0, actor=None)
    ahead = selectors.card_fix_forecast(card)
    assert ahead.cards_ahead == 0 and ahead.p85 < before.p85
    services.card_move(card=card, column=card.column, position=None, actor=None)
    assert selectors.card_fix_forecast(card).p85 == before.p85
    # the card it overtook and gave way to again: back where it was too
    assert selectors.card_fix_forecast(ready[0]).cards_ahead == 0


def test_in_progress_is_earlier_than_ready_and_done_has_no_forecast(board):
    _open(board, ColumnCategory.IN_PROGRESS, 3, prefix="W")
    card = _open(board, ColumnCategory.READY, 1)[0]
    in_ready = selectors.card_fix_forecast(card)
    assert in_ready.cards_ahead == 3 and in_ready.work == 4  # three cards to finish first, then itself
    services.card_move(card=card, column=column_of(board, ColumnCategory.IN_PROGRESS), position=0, actor=None)
    started = selectors.card_fix_forecast(card)
    assert started.cards_ahead == 0 and started.work == 1
    assert started.p85 < in_ready.p85 and started.p50 < in_ready.p50
    services.card_move(card=card, column=column_of(board, ColumnCategory.DONE), actor=None)
    assert selectors.card_fix_forecast(card) is None


def test_the_expedite_lane_learns_from_its_own_throughput(board):
    card = _open(board, ColumnCategory.READY, 1, kind=LaneKind.EXPEDITE)[0]
    forecast = selectors.card_fix_forecast(card)
    assert forecast.status == "insufficient_history" and forecast.p50 is None and forecast.p85 is None
    assert forecast.lane_kind == LaneKind.EXPEDITE and forecast.history_done == 0


def test_a_fresh_board_is_read_from_the_cache_and_a_stale_one_recomputed_once(board):
    cards = _open(board, ColumnCategory.READY, 5)
    selectors.card_fix_forecast(cards[0])
    run = BoardForecastRun.objects.get(board=board)
    assert run.cards == 5
    with CaptureQueriesContext(connection) as fresh:
        selectors.card_fix_forecast(cards[1])
    assert len(fresh) == 2
    assert BoardForecastRun.objects.get(board=board).computed_at == run.computed_at
    # a move is read at its new place without recomputing anything
    services.card_move(card=cards[1], column=cards[1].column, position=0, actor=None)
    assert forecasting.stale_boards([board.pk]) == []
    with CaptureQueriesContext(connection) as moved:
        assert selectors.card_fix_forecast(cards[1]).cards_ahead == 0
    assert len(moved) == 2
    # a card done changes what the curves learn from (and today's done count): recomputed once
    services.card_move(card=cards[0], column=column_of(board, ColumnCategory.DONE), actor=None)
    assert forecasting.stale_boards([board.pk]) == [board.pk]
    selectors.card_fix_forecast(cards[1])
    assert forecasting.stale_boards([board.pk]) == []
    assert BoardForecastRun.objects.get(board=board).curves[LaneKind.STANDARD]["done_today"] == 1
    # a new day is a new forecast (today is its start)
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert forecasting.stale_boards([board.pk], today=tomorrow) == [board.pk]


def test_the_same_state_gives_the_same_forecast(board):
    cards = _open(board, ColumnCategory.READY, 6)
    first = selectors.card_fix_forecast(cards[-1])
    forecasting.board_forecasts_refresh(board.pk)
    assert selectors.card_fix_forecast(cards[-1]) == first


def test_an_incident_forecast_is_its_latest_open_card_and_null_without_one(board, new_incident):
    ready = _open(board, ColumnCategory.READY, 6)
    incident, other, none = new_incident(), new_incident(), new_incident()
    services.card_link_incident(card=ready[1], incident=incident, actor=None)
    services.card_link_incident(card=ready[4], incident=incident, actor=None)
    services.card_link_incident(card=ready[0], incident=other, actor=None)
    got = selectors.incident_fix_forecasts([incident.pk, other.pk, none.pk])
    assert set(got) == {incident.pk, other.pk, none.pk}
    assert got[none.pk] is None
    assert got[incident.pk].card_id == ready[4].pk and got[incident.pk].open_cards == 2
    assert got[other.pk].card_id == ready[0].pk
    data = got[incident.pk].as_dict()
    assert data["card"] == ready[4].pk and data["p85"] == got[incident.pk].p85.isoformat()
    for card in ready[:2]:
        services.card_move(card=card, column=column_of(board, ColumnCategory.DONE), actor=None)
    assert selectors.incident_fix_forecast(other.pk) is None
    assert selectors.incident_fix_forecast(incident.pk).card_id == ready[4].pk


def test_incident_forecasts_cost_two_queries_for_any_number(board, new_incident):
    ready = _open(board, ColumnCategory.READY, 12)
    incidents = [new_incident() for _ in range(12)]
    for card, incident in zip(ready, incidents, strict=True):
        services.card_link_incident(card=card, incident=incident, actor=None)
    selectors.incident_fix_forecasts([i.pk for i in incidents])  # computes once
    with CaptureQueriesContext(connection) as few:
        selectors.incident_fix_forecasts([i.pk for i in incidents[:2]])
    with CaptureQueriesContext(connection) as many:
        selectors.incident_fix_forecasts([i.pk for i in incidents])
    assert len(few) == len(many) == 2

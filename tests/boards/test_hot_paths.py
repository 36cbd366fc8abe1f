"""The board endpoint's database-built cards (issue 19: grouped joins for the links and the
SLA due instant, row_to_json per card) answer what the Python path answers, card by card
and in rank order, with several incidents per card and every kind of clock."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from boards.api.views import board_payload
from boards.models import CardIncident
from incidents.models import Incident
from sla.models import SLATimer
from tests.factories import ServiceFactory

from .factories import BoardFactory, CardFactory

pytestmark = pytest.mark.django_db


def _same(got, want):
    assert set(got) == set(want)
    for name, value in want.items():
        if hasattr(value, "isoformat") and name != "due_date":
            assert parse_datetime(got[name]) == value, name
        else:
            assert got[name] == value, name


def _board():
    board = BoardFactory()
    cards = [CardFactory(board=board, rank=r) for r in (30, 10, 10, 20)]
    cancelled = CardFactory(board=board, rank=5)
    cancelled.cancelled_at = timezone.now()
    cancelled.save(update_fields=["cancelled_at"])
    service, now = ServiceFactory(), timezone.now()
    clocks = [
        # (card, metric, state, active, due): the card shows the earliest counting resolution clock
        (0, "resolution", "running", True, now + timedelta(hours=5)),
        (0, "resolution", "paused", True, now + timedelta(hours=3)),
        (0, "response", "running", True, now - timedelta(hours=9)),  # another metric: left out
        (1, "resolution", "breached", True, now - timedelta(hours=2)),  # overdue, still counting
        (1, "resolution", "breached", False, now - timedelta(hours=8)),  # stopped: left out
        (1, "resolution", "met", True, now - timedelta(hours=20)),  # met: left out
        (2, "resolution", "running", True, None),  # no due instant
        (4, "resolution", "running", True, now - timedelta(days=1)),  # the cancelled card's
    ]
    for i, (n, metric, state, active, due) in enumerate(clocks):
        incident = Incident.objects.create(
            key=f"INC-H{i}", title="t", service=service, team=service.support_team, created_at=now
        )
        card = cancelled if n == 4 else cards[n]
        CardIncident.objects.create(card=card, incident=incident, created_at=now)
        SLATimer.objects.create(
            incident=incident, metric=metric, state=state, is_active=active, started_at=now, due_at=due
        )
    return board, cards, now


def test_the_database_built_cards_equal_the_python_path(api, desk_user):
    board, cards, now = _board()
    body = api.as_user(desk_user).get(f"/api/v1/boards/{board.pk}/").json()
    expected = board_payload(board)["cards"]  # the Python path (used on SQLite)
    assert [c["id"] for c in body["cards"]] == [cards[1].pk, cards[2].pk, cards[3].pk, cards[0].pk]
    assert len(body["cards"]) == len(expected) == 4
    for got, want in zip(body["cards"], expected, strict=True):
        _same(got, want)
    by_id = {c["id"]: c for c in body["cards"]}
    assert parse_datetime(by_id[cards[0].pk]["sla_due_at"]) == now + timedelta(hours=3)
    assert parse_datetime(by_id[cards[1].pk]["sla_due_at"]) == now - timedelta(hours=2)
    assert by_id[cards[2].pk]["sla_due_at"] is None and len(by_id[cards[2].pk]["incidents"]) == 1
    assert by_id[cards[3].pk]["sla_due_at"] is None and by_id[cards[3].pk]["incidents"] == []
    assert len(by_id[cards[0].pk]["incidents"]) == 3
    assert by_id[cards[0].pk]["incidents"] == sorted(by_id[cards[0].pk]["incidents"])


def test_the_board_costs_the_same_queries_for_more_cards(api, desk_user):
    """A first read (the cards built) and a repeated one (the cards' text from the cache,
    under an unchanged fingerprint) each cost the same statements for 4 or 44 cards."""
    board, cards, now = _board()
    client = api.as_user(desk_user)
    url = f"/api/v1/boards/{board.pk}/"
    counts = []
    for extra in (0, 40):
        for r in range(extra):
            CardFactory(board=board, rank=100 + r)
        with CaptureQueriesContext(connection) as built:
            assert len(client.get(url).json()["cards"]) == 4 + extra
        with CaptureQueriesContext(connection) as cached:
            assert len(client.get(url).json()["cards"]) == 4 + extra
        counts.append((len(built), len(cached)))
    assert counts[0] == counts[1], counts
    assert counts[0][1] == counts[0][0] - 1  # the cached read skips the JSON statement

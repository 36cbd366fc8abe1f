"""The board endpoint keeps its cards' JSON in the cache under the fingerprint of the rows it
was read from (boards.selectors.board_cards_json): a repeated read skips the JSON statement,
and after any change — through a service, a bulk update, plain SQL, a link or a linked
incident's clock — the next read answers what a fresh build answers."""

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from boards import selectors, services
from boards.api import serializers as s
from boards.models import Card, CardIncident, ColumnCategory
from incidents.models import Incident
from sla.models import SLATimer
from tests.factories import ServiceFactory

from .factories import BoardFactory, CardFactory, column_of

pytestmark = pytest.mark.django_db

COLUMNS = s.card_columns(s.BoardCardOutSerializer)


@pytest.fixture
def board():
    board = BoardFactory()
    cards = [CardFactory(board=board, rank=r, title=f"Card {r}") for r in (10, 20, 30)]
    service, now = ServiceFactory(), timezone.now()
    incident = Incident.objects.create(
        key="INC-C1", title="t", service=service, team=service.support_team, created_at=now
    )
    CardIncident.objects.create(card=cards[0], incident=incident, created_at=now)
    SLATimer.objects.create(
        incident=incident,
        metric="resolution",
        state="running",
        started_at=now,
        due_at=now + timedelta(hours=4),
    )
    return board


def _fresh(board):
    """What a build from the rows answers now (no cache)."""
    return json.loads(selectors._board_cards_json_built(board, COLUMNS))


def _read(client, board):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/boards/{board.pk}/")
    assert response.status_code == 200
    built = sum("json_agg" in q["sql"] for q in queries.captured_queries)
    return response.json()["cards"], built


def _cards(board):
    return list(Card.objects.filter(board=board).order_by("rank"))


def _link_timer(board):
    return SLATimer.objects.filter(incident__card_links__card__board=board)


CHANGES = {
    "moved through the service": lambda board, user: services.card_move(
        card=_cards(board)[2], column=column_of(board, ColumnCategory.IN_PROGRESS), position=0, actor=user
    ),
    "edited through the service": lambda board, user: services.card_update(
        card=_cards(board)[1], actor=user, title="Renamed"
    ),
    "cancelled": lambda board, user: services.card_cancel(card=_cards(board)[1], actor=user, reason="dup"),
    "created": lambda board, user: CardFactory(board=board, rank=5),
    "bulk update": lambda board, user: Card.objects.filter(board=board).update(blocked=True),
    "plain SQL": lambda board, user: _sql(
        "UPDATE boards_card SET title = 'SQL' WHERE board_id = %s", board.pk
    ),  # noqa: E501
    "link added": lambda board, user: CardIncident.objects.create(
        card=_cards(board)[2], incident=Incident.objects.get(key="INC-C1"), created_at=timezone.now()
    ),
    "link removed": lambda board, user: CardIncident.objects.filter(card__board=board).delete(),
    "clock moved": lambda board, user: _link_timer(board).update(due_at=timezone.now() + timedelta(hours=9)),
    "clock stopped": lambda board, user: _link_timer(board).update(state="met"),
}


def _sql(statement, *params):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.mark.parametrize("change", list(CHANGES))
def test_after_a_change_the_next_read_equals_a_fresh_build(api, developer_user, board, change):
    client = api.as_user(developer_user)
    before, built = _read(client, board)
    assert built == 1 and before == _fresh(board)
    again, built = _read(client, board)
    assert built == 0 and again == before  # unchanged rows: the text from the cache
    CHANGES[change](board, developer_user)
    after, built = _read(client, board)
    assert built == 1, "a changed row must make a new fingerprint"
    assert after == _fresh(board) and after != before
    # The same change seen twice (the second visit) comes from the cache again.
    assert _read(client, board) == (after, 0)


def test_writing_the_same_rows_twice_in_one_transaction_is_seen(api, developer_user, board):
    """Both versions carry the transaction's id: their places (ctid) tell them apart."""
    with transaction.atomic():
        first = selectors.board_cards_json(board, COLUMNS)
        Card.objects.filter(board=board).update(title="Once")
        once = selectors.board_cards_json(board, COLUMNS)
        Card.objects.filter(board=board).update(title="Twice")
        twice = selectors.board_cards_json(board, COLUMNS)
    assert first != once != twice
    assert json.loads(twice) == _fresh(board)


def test_a_rolled_back_change_is_never_served(api, developer_user, board):
    client = api.as_user(developer_user)
    before, _ = _read(client, board)
    with pytest.raises(RuntimeError), transaction.atomic():
        Card.objects.filter(board=board).update(title="Rolled back")
        assert "Rolled back" in selectors.board_cards_json(board, COLUMNS)  # cached under its fingerprint
        raise RuntimeError
    assert _read(client, board)[0] == before == _fresh(board)


def test_the_board_serves_when_the_cache_is_away(api, developer_user, board, monkeypatch):
    def away(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", away)
    monkeypatch.setattr(cache, "set", away)
    client = api.as_user(developer_user)
    cards, built = _read(client, board)
    assert built == 1 and cards == _fresh(board)
    Card.objects.filter(board=board).update(title="Still served")
    assert {c["title"] for c in _read(client, board)[0]} == {"Still served"}


def test_two_boards_and_two_shapes_never_share_a_text(board):
    other = BoardFactory()
    CardFactory(board=other, rank=1)
    ours = selectors.board_cards_json(board, COLUMNS)
    theirs = selectors.board_cards_json(other, COLUMNS)
    assert ours != theirs
    slim = selectors.board_cards_json(board, {"id": "id"})
    assert set(json.loads(slim)[0]) == {"id", "incidents", "sla_due_at"}
    assert selectors.board_cards_json(board, COLUMNS) == ours


def test_a_busy_board_keeps_one_entry_in_the_cache(api, developer_user, board):
    """Each change replaces the board's entry: the cache (Redis, shared with the broker in
    production) holds one text per board and shape, not one per version."""
    client = api.as_user(developer_user)
    for n in range(5):
        Card.objects.filter(board=board).update(title=f"Version {n}")
        cards, built = _read(client, board)
        assert built == 1 and {c["title"] for c in cards} == {f"Version {n}"}
    kept = [key for key in cache._cache if "board-cards" in key]  # the local-memory cache's keys
    assert len(kept) == 1, kept
    assert _read(client, board) == (cards, 0)

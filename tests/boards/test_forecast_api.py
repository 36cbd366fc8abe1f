"""`fix_forecast` in the APIs: the incident (detail and list, fixed query count) and the
card; the pages (card, incident's development panel) and the escalation preview."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from boards import services
from boards.api.serializers import FixForecastOutSerializer
from boards.models import Card, ColumnCategory, LaneKind
from incidents.services import incident_create
from tests.factories import DevTeamFactory, ServiceFactory, TeamFactory

from .factories import BoardFactory, CardFactory, column_of, lane_of

pytestmark = pytest.mark.django_db


def _history(board, *, kind=LaneKind.STANDARD, days=28):
    done, lane, now = column_of(board, ColumnCategory.DONE), lane_of(board, kind), timezone.now()
    Card.objects.bulk_create(
        CardFactory.build(
            board=board, column=done, lane=lane, key=f"HIST-{board.pk}-{kind}-{d}",
            created_at=now - timedelta(days=d + 3), started_at=now - timedelta(days=d + 1),
            done_at=now - timedelta(days=d),
        )
        for d in range(1, days + 1)
    )  # fmt: skip


@pytest.fixture
def setup(desk_user, developer_user):
    dev = DevTeamFactory(name="Payments Dev", members=[developer_user])
    desk = TeamFactory(name="Service Desk", tier=1, members=[desk_user])
    board = BoardFactory(name="Payments board", teams=[dev])
    _history(board)
    service = ServiceFactory(name="Payments API", team=dev, support_team=desk)
    ready = column_of(board, ColumnCategory.READY)
    queue = [
        CardFactory(board=board, column=ready, lane=lane_of(board), key=f"Q-{i}", rank=i) for i in range(6)
    ]
    return board, service, queue


def _incident(desk_user, service, title="Refunds fail"):
    return incident_create(actor=desk_user, title=title, service=service, impact="medium", urgency="medium")


def test_incident_detail_shows_its_cards_forecast_and_follows_a_move(api, desk_user, setup):
    board, service, queue = setup
    incident = _incident(desk_user, service)
    services.card_link_incident(card=queue[-1], incident=incident, actor=None)
    api.as_user(desk_user)
    url = f"/api/v1/incidents/{incident.pk}/"
    forecast = api.get(url).json()["fix_forecast"]
    assert set(forecast) == set(FixForecastOutSerializer().fields)
    assert forecast["card"] == queue[-1].pk and forecast["card_key"] == "Q-5"
    assert forecast["status"] == "ok" and forecast["insufficient_history"] is False
    assert forecast["cards_ahead"] == 5 and forecast["p50"] <= forecast["p85"]
    assert forecast["p50"] > timezone.localdate().isoformat()
    services.card_move(card=queue[-1], column=queue[-1].column, position=0, actor=None)
    moved = api.get(url).json()["fix_forecast"]
    assert moved["cards_ahead"] == 0 and moved["p85"] < forecast["p85"]
    services.card_move(card=queue[-1], column=column_of(board, ColumnCategory.DONE), actor=None)
    assert api.get(url).json()["fix_forecast"] is None


def test_an_incident_without_a_card_has_no_forecast_and_a_young_board_says_so(api, desk_user, setup):
    board, service, _queue = setup
    incident = _incident(desk_user, service)
    api.as_user(desk_user)
    assert api.get(f"/api/v1/incidents/{incident.pk}/").json()["fix_forecast"] is None
    expedite = CardFactory(
        board=board, column=column_of(board, ColumnCategory.READY), lane=lane_of(board, LaneKind.EXPEDITE)
    )
    services.card_link_incident(card=expedite, incident=incident, actor=None)
    forecast = api.get(f"/api/v1/incidents/{incident.pk}/").json()["fix_forecast"]
    assert forecast["status"] == "insufficient_history" and forecast["insufficient_history"] is True
    assert forecast["p50"] is None and forecast["p85"] is None and forecast["lane_class"] == "expedite"


def test_incident_list_reads_forecasts_for_the_page_at_once(api, desk_user, setup):
    _board, service, queue = setup
    incidents = [_incident(desk_user, service, f"Incident {i}") for i in range(6)]
    for card, incident in zip(queue, incidents, strict=True):
        services.card_link_incident(card=card, incident=incident, actor=None)
    api.as_user(desk_user)
    api.get("/api/v1/incidents/")  # the board's forecasts computed once

    def count(size):
        with CaptureQueriesContext(connection) as ctx:
            r = api.get(f"/api/v1/incidents/?page_size={size}&sort=oldest")
        assert r.status_code == 200
        return len(ctx), r.json()["results"]

    small, rows = count(2)
    large, rows_all = count(6)
    assert small == large, (small, large)
    assert [r["fix_forecast"]["card"] for r in rows_all] == [c.pk for c in queue]
    assert len(rows) == 2


def test_card_detail_and_list_carry_the_card_forecast(api, developer_user, setup):
    board, _service, queue = setup
    api.as_user(developer_user)
    forecast = api.get(f"/api/v1/cards/{queue[2].pk}/").json()["fix_forecast"]
    assert forecast["card"] == queue[2].pk and forecast["cards_ahead"] == 2 and forecast["open_cards"] == 1
    rows = api.get(f"/api/v1/cards/?board={board.pk}&column={queue[0].column_id}").json()["results"]
    assert {r["id"]: r["fix_forecast"]["cards_ahead"] for r in rows} == {c.pk: i for i, c in enumerate(queue)}
    done = api.get(f"/api/v1/cards/?board={board.pk}&column={column_of(board, 'done').pk}").json()["results"]
    assert done and all(r["fix_forecast"] is None for r in done)
    # the move's own response already shows where the card now stands
    r = api.post(f"/api/v1/cards/{queue[5].pk}/move/", {"column": queue[5].column_id, "position": 0})
    assert r.status_code == 200 and r.json()["fix_forecast"]["cards_ahead"] == 0


def test_card_page_and_development_panel_show_the_forecast(client, desk_user, developer_user, setup):
    _board, service, queue = setup
    incident = _incident(desk_user, service)
    services.card_link_incident(card=queue[3], incident=incident, actor=None)
    client.force_login(developer_user)
    page = client.get(f"/boards/cards/{queue[3].pk}/").content.decode()
    assert 'data-testid="fix-forecast"' in page and "Card likely done by" in page
    client.force_login(desk_user)
    page = client.get(f"/incidents/{incident.key}/").content.decode()
    assert "Fix likely done by" in page and "3 standard-lane cards ahead of it" in page


def test_escalation_preview_says_when_the_new_card_is_likely_done(client, manager_user, desk_user, setup):
    board, service, _queue = setup
    incident = _incident(desk_user, service)
    client.force_login(manager_user)
    r = client.get(f"/incidents/{incident.key}/escalate-to-development/preview/", {"team": service.team_id})
    assert r.status_code == 200, r.content[:500]
    body = r.content.decode()
    assert "Fix likely done by" in body and "If escalated now" in body
    assert not Card.objects.filter(board=board, title__startswith=incident.key).exists()

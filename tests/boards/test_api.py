from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from boards import services
from boards.models import Card, CardIncident, CardMove, ColumnCategory, LaneKind, ReasonKind
from tests.factories import DevTeamFactory

from .factories import BoardFactory, CardFactory, ReasonCodeFactory, column_of, lane_of

pytestmark = pytest.mark.django_db

CARD_FIELDS = {
    "id", "key", "board", "title", "description", "type", "class_of_service", "estimate", "assignee",
    "column", "lane", "rank", "sprint", "release", "blocked", "block_reason", "incidents", "sla_due_at",
}  # fmt: skip


def test_board_create_nested_and_read(api, po_user):
    team = DevTeamFactory()
    body = {
        "name": "API board",
        "teams": [team.pk],
        "columns": [
            {"name": "Backlog", "category": "backlog"},
            {"name": "Ready", "category": "ready", "wip_max": 5},
            {"name": "Doing", "category": "in_progress", "wip_min": 1, "wip_max": 3},
            {"name": "Done", "category": "done"},
        ],
        "lanes": [{"name": "Expedite", "kind": "expedite"}, {"name": "Product", "kind": "standard"}],
    }
    r = api.as_user(po_user).post("/api/v1/boards/", body)
    assert r.status_code == 201, r.content
    r = api.get(f"/api/v1/boards/{r.json()['id']}/")
    data = r.json()
    assert [c["name"] for c in data["columns"]] == ["Backlog", "Ready", "Doing", "Done"]
    assert data["columns"][2] | {} == {
        "id": data["columns"][2]["id"], "name": "Doing", "category": "in_progress",
        "wip_min": 1, "wip_max": 3, "count": 0,
    }  # fmt: skip
    assert [ln["kind"] for ln in data["lanes"]] == ["expedite", "standard"]
    assert data["teams"] == [team.pk] and data["cards"] == []


def test_board_create_bad_input_is_400(api, po_user):
    r = api.as_user(po_user).post(
        "/api/v1/boards/", {"name": "x", "columns": [{"name": "A", "category": "nope"}], "lanes": []}
    )
    assert r.status_code == 400
    assert "columns" in r.json()


def test_card_create_read_patch_shapes(api, developer_user):
    board = BoardFactory()
    ready = column_of(board, ColumnCategory.READY)
    r = api.as_user(developer_user).post(
        "/api/v1/cards/",
        {"board": board.pk, "title": "Story", "type": "story", "estimate": 3, "column": ready.pk,
         "lane": lane_of(board).pk},
    )  # fmt: skip
    assert r.status_code == 201, r.content
    card = r.json()
    assert set(card) >= CARD_FIELDS
    assert card["key"].startswith("DEV-") and card["column"] == ready.pk and card["estimate"] == 3
    r = api.patch(f"/api/v1/cards/{card['id']}/", {"title": "Renamed", "estimate": 5})
    assert r.status_code == 200 and r.json()["title"] == "Renamed" and r.json()["estimate"] == 5
    r = api.patch(f"/api/v1/cards/{card['id']}/", {"column": ready.pk})
    assert r.status_code == 400 and "column" in r.json()


def test_card_patch_sprint_goes_through_sprint_service(api, developer_user, monkeypatch):
    from sprints import services as sprint_services
    from sprints.models import Sprint

    calls = []
    original = sprint_services.card_sprint_set

    def spy(**kwargs):
        calls.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(sprint_services, "card_sprint_set", spy)
    board = BoardFactory()
    team = DevTeamFactory()
    today = timezone.localdate()
    sprint = Sprint.objects.create(
        team=team, board=board, name="S1", start=today, end=today + timedelta(days=13)
    )
    card = CardFactory(board=board)
    r = api.as_user(developer_user).patch(
        f"/api/v1/cards/{card.pk}/", {"sprint": sprint.pk, "reason": "planned"}
    )
    assert r.status_code == 200 and r.json()["sprint"] == sprint.pk
    assert calls and calls[0]["sprint"] == sprint and calls[0]["reason"] == "planned"


def test_move_pull_block_unblock(api, developer_user):
    board = BoardFactory()
    card = CardFactory(board=board, column=column_of(board, ColumnCategory.BACKLOG))
    api.as_user(developer_user)
    r = api.post(f"/api/v1/cards/{card.pk}/move/", {"column": column_of(board, ColumnCategory.READY).pk})
    assert r.status_code == 200
    r = api.post(f"/api/v1/cards/{card.pk}/pull/")
    assert r.status_code == 200
    assert r.json()["assignee"] == developer_user.pk
    assert r.json()["column"] == column_of(board, ColumnCategory.IN_PROGRESS).pk
    ReasonCodeFactory(kind=ReasonKind.BLOCK, code="vendor")
    r = api.post(f"/api/v1/cards/{card.pk}/block/", {"reason": "vendor", "note": "ticket 42"})
    assert r.status_code == 200 and r.json()["blocked"] is True
    r = api.post(f"/api/v1/cards/{card.pk}/unblock/")
    assert r.status_code == 200 and r.json()["blocked"] is False


def test_move_over_wip_is_409_then_override_200(api, developer_user):
    board = BoardFactory(columns__wip={ColumnCategory.IN_PROGRESS: (None, 1)})
    doing = column_of(board, ColumnCategory.IN_PROGRESS)
    CardFactory(board=board, column=doing)
    card = CardFactory(board=board)
    api.as_user(developer_user)
    r = api.post(f"/api/v1/cards/{card.pk}/move/", {"column": doing.pk})
    assert r.status_code == 409 and r.json()["code"] == "wip_limit_exceeded" and r.json()["detail"]
    reason = ReasonCodeFactory(kind=ReasonKind.WIP_OVERRIDE, code="production-incident")
    r = api.post(f"/api/v1/cards/{card.pk}/move/", {"column": doing.pk, "override_reason": reason.code})
    assert r.status_code == 200
    assert CardMove.objects.filter(card=card).latest("id").override_reason == reason


def test_pull_into_full_column_is_409(api, developer_user):
    board = BoardFactory(columns__wip={ColumnCategory.IN_PROGRESS: (None, 0)})
    card = CardFactory(board=board, column=column_of(board, ColumnCategory.READY))
    r = api.as_user(developer_user).post(f"/api/v1/cards/{card.pk}/pull/")
    assert r.status_code == 409 and r.json()["code"] == "wip_limit_exceeded"
    card.refresh_from_db()
    assert card.assignee is None and card.column.category == ColumnCategory.READY


@pytest.mark.parametrize(
    "case,field",
    [
        ("other_board_column", "column"),
        ("unknown_column", "column"),
        ("unknown_lane", "lane"),
        ("other_board_lane", "lane"),
        ("negative_position", "position"),
        ("unknown_reason", "override_reason"),
        ("block_reason_as_override", "override_reason"),
    ],
)
def test_bad_move_is_400_and_nothing_moved(api, developer_user, case, field):
    board, other = BoardFactory(), BoardFactory()
    card = CardFactory(board=board)
    body = {"column": column_of(board, ColumnCategory.READY).pk}
    if case == "other_board_column":
        body["column"] = column_of(other, ColumnCategory.READY).pk
    elif case == "unknown_column":
        body["column"] = 999999
    elif case == "unknown_lane":
        body["lane"] = 999999
    elif case == "other_board_lane":
        body["lane"] = lane_of(other).pk
    elif case == "negative_position":
        body["position"] = -1
    elif case == "unknown_reason":
        body["override_reason"] = "no-such-reason"
    else:
        body["override_reason"] = ReasonCodeFactory(kind=ReasonKind.BLOCK, code="vendor").code
    r = api.as_user(developer_user).post(f"/api/v1/cards/{card.pk}/move/", body)
    assert r.status_code == 400, r.content
    assert field in r.json() and r.json()[field][0]
    card.refresh_from_db()
    assert card.column.category == ColumnCategory.BACKLOG
    assert not CardMove.objects.filter(card=card).exists()


def test_block_with_unknown_reason_is_400(api, developer_user):
    card = CardFactory()
    r = api.as_user(developer_user).post(f"/api/v1/cards/{card.pk}/block/", {"reason": "nope"})
    assert r.status_code == 400 and "reason" in r.json()
    card.refresh_from_db()
    assert not card.blocked


def test_card_filters(api, desk_user):
    board = BoardFactory()
    CardFactory(board=board, type="defect", blocked=True)
    CardFactory(board=board, type="story")
    CardFactory()
    api.as_user(desk_user)
    assert len(api.get(f"/api/v1/cards/?board={board.pk}").json()["results"]) == 2
    assert len(api.get(f"/api/v1/cards/?board={board.pk}&type=defect").json()["results"]) == 1
    assert len(api.get(f"/api/v1/cards/?board={board.pk}&blocked=false").json()["results"]) == 1
    assert api.get("/api/v1/cards/?type=bogus").status_code == 400


def test_sla_due_at_is_earliest_running_resolution_timer(api, desk_user):
    from incidents.models import Incident
    from sla.models import SLATimer
    from tests.factories import ServiceFactory

    card = CardFactory()
    service = ServiceFactory()
    now = timezone.now()
    due = []
    for i, (state, metric, active) in enumerate(
        [("running", "resolution", True), ("paused", "resolution", True), ("running", "response", True),
         ("met", "resolution", False)]
    ):  # fmt: skip
        inc = Incident.objects.create(
            key=f"INC-T{i}", title="t", service=service, team=service.support_team, created_at=now
        )
        CardIncident.objects.create(card=card, incident=inc, created_at=now)
        at = now + timedelta(hours=5 - i)
        SLATimer.objects.create(
            incident=inc, metric=metric, state=state, is_active=active, started_at=now, due_at=at
        )
        due.append(at)
    r = api.as_user(desk_user).get(f"/api/v1/cards/{card.pk}/")
    body = r.json()
    assert len(body["incidents"]) == 4
    # the paused resolution timer (i=1) is the earliest eligible one
    from django.utils.dateparse import parse_datetime

    assert parse_datetime(body["sla_due_at"]) == due[1]
    assert api.get(f"/api/v1/cards/{CardFactory().pk}/").json()["sla_due_at"] is None


def test_reason_codes_and_releases(api, developer_user, desk_user):
    board = BoardFactory()
    ReasonCodeFactory(kind=ReasonKind.BLOCK, code="vendor")
    ReasonCodeFactory(kind=ReasonKind.WIP_OVERRIDE, code="incident")
    api.as_user(desk_user)
    assert {r["kind"] for r in api.get("/api/v1/reason-codes/").json()["results"]} == {
        "block",
        "wip_override",
    }
    assert api.post("/api/v1/releases/", {"board": board.pk, "name": "R1"}).status_code == 403
    api.as_user(developer_user)
    r = api.post("/api/v1/releases/", {"board": board.pk, "name": "R1", "planned_for": "2026-12-01"})
    assert r.status_code == 201
    rid = r.json()["id"]
    CardFactory(board=board, release_id=rid)
    assert api.post("/api/v1/releases/", {"board": board.pk, "name": "R1"}).status_code == 400
    r = api.post(f"/api/v1/releases/{rid}/deploy/")
    assert r.status_code == 200 and r.json()["deployed_at"]
    assert api.post(f"/api/v1/releases/{rid}/deploy/").status_code == 409
    assert len(api.get(f"/api/v1/releases/{rid}/").json()["cards"]) == 1


ROLE_CASES = [
    ("service_desk", False),
    ("support_engineer", False),
    ("developer", True),
    ("product_owner", True),
    ("manager", True),
]


@pytest.mark.parametrize("role,may_write", ROLE_CASES)
def test_permission_matrix(api, make_user, role, may_write):
    user = make_user(role)
    board = BoardFactory()
    card = CardFactory(board=board, column=column_of(board, ColumnCategory.READY))
    ReasonCodeFactory(kind=ReasonKind.BLOCK, code="vendor")
    api.as_user(user)
    assert api.get(f"/api/v1/boards/{board.pk}/").status_code == 200
    assert api.get(f"/api/v1/cards/{card.pk}/").status_code == 200
    expected = 200 if may_write else 403
    writes = [
        api.patch(f"/api/v1/cards/{card.pk}/", {"title": "t2"}),
        api.post(f"/api/v1/cards/{card.pk}/block/", {"reason": "vendor"}),
        api.post(f"/api/v1/cards/{card.pk}/unblock/"),
        api.post(f"/api/v1/cards/{card.pk}/pull/"),
        api.post(f"/api/v1/cards/{card.pk}/move/", {"column": column_of(board, ColumnCategory.DONE).pk}),
    ]
    assert [w.status_code for w in writes] == [expected] * 5
    r = api.post("/api/v1/cards/", {"board": board.pk, "title": "new"})
    assert r.status_code == (201 if may_write else 403)
    r = api.post("/api/v1/boards/", {"name": "B", "columns": [{"name": "a", "category": "backlog"}],
                                     "lanes": [{"name": "l", "kind": "standard"}]})  # fmt: skip
    assert r.status_code == (201 if role in ("product_owner", "manager") else 403)


def test_no_role_cannot_read(api, make_user):
    user = make_user()
    assert api.as_user(user).get("/api/v1/boards/").status_code == 403
    assert api.get(f"/api/v1/cards/{CardFactory().pk}/").status_code == 403


def _bulk_cards(board, n):
    cols = list(board.columns.all())
    lanes = list(board.lanes.all())
    now = timezone.now()
    Card.objects.bulk_create(
        Card(board=board, key=f"Q{board.pk}-{i}", title=f"c{i}", column=cols[i % len(cols)],
             lane=lanes[i % 2], rank=i, created_at=now)
        for i in range(n)
    )  # fmt: skip


def test_board_endpoint_query_count_constant(api, desk_user):
    small, large = BoardFactory(), BoardFactory()
    _bulk_cards(small, 20)
    _bulk_cards(large, 2000)
    api.as_user(desk_user)
    counts = []
    for board in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            r = api.get(f"/api/v1/boards/{board.pk}/")
        assert r.status_code == 200
        counts.append(len(ctx))
    assert len(r.json()["cards"]) == 2000
    assert counts[0] == counts[1], counts
    assert counts[1] <= 10


def test_card_list_query_count_constant(api, desk_user):
    small, large = BoardFactory(), BoardFactory()
    _bulk_cards(small, 5)
    _bulk_cards(large, 300)
    api.as_user(desk_user)
    counts = []
    for board in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(f"/api/v1/cards/?board={board.pk}&page_size=200").status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1], counts


def test_expedite_policy_via_api(api, developer_user):
    board = BoardFactory()
    r = api.as_user(developer_user).post(
        "/api/v1/cards/", {"board": board.pk, "title": "Prod down", "type": "production_defect"}
    )
    assert r.status_code == 201
    assert r.json()["column"] == column_of(board, ColumnCategory.READY).pk
    assert r.json()["lane"] == lane_of(board, LaneKind.EXPEDITE).pk
    assert r.json()["class_of_service"] == "expedite"
    assert services.card_create  # the same service path


def test_board_endpoint_postgres_json_matches_python_rows(api, desk_user):
    from django.utils.dateparse import parse_datetime

    from boards.api.views import board_payload
    from incidents.models import Incident
    from sla.models import SLATimer
    from tests.factories import ServiceFactory

    board = BoardFactory()
    now = timezone.now()
    card = CardFactory(board=board, estimate=2.5, blocked=True, blocked_since=now, title='Quote " and <b>')
    CardFactory(board=board)
    service = ServiceFactory()
    inc = Incident.objects.create(
        key="INC-J1", title="t", service=service, team=service.support_team, created_at=now
    )
    CardIncident.objects.create(card=card, incident=inc, created_at=now)
    SLATimer.objects.create(incident=inc, metric="resolution", state="running", started_at=now, due_at=now)
    r = api.as_user(desk_user).get(f"/api/v1/boards/{board.pk}/")
    assert r["Content-Type"] == "application/json"
    body = r.json()
    expected = board_payload(board)["cards"]  # the Python path (used on SQLite)
    assert len(body["cards"]) == 2
    assert CARD_FIELDS - {"description"} <= set(body["cards"][0])
    for got, want in zip(body["cards"], expected, strict=True):
        assert set(got) == set(want)
        for name, value in want.items():
            if hasattr(value, "isoformat") and name != "due_date":
                assert parse_datetime(got[name]) == value, name
            else:
                assert got[name] == value, name
    assert body["cards"][0]["incidents"] == [inc.pk] and body["cards"][0]["sla_due_at"]


def test_sla_due_at_shows_a_breached_clock_that_still_runs(api, desk_user):
    from incidents.models import Incident
    from sla.models import SLATimer
    from tests.factories import ServiceFactory

    card = CardFactory()
    service = ServiceFactory()
    now = timezone.now()
    overdue = now - timedelta(hours=2)
    for i, (state, active, due) in enumerate(
        [("breached", True, overdue), ("breached", False, now - timedelta(hours=9)), ("running", True, now)]
    ):
        inc = Incident.objects.create(
            key=f"INC-B{i}", title="t", service=service, team=service.support_team, created_at=now
        )
        CardIncident.objects.create(card=card, incident=inc, created_at=now)
        SLATimer.objects.create(
            incident=inc, metric="resolution", state=state, is_active=active, started_at=now, due_at=due
        )
    from django.utils.dateparse import parse_datetime

    body = api.as_user(desk_user).get(f"/api/v1/cards/{card.pk}/").json()
    assert parse_datetime(body["sla_due_at"]) == overdue  # the resolved (stopped) breach is left out


def test_card_list_search_and_ordering_page_through_every_row(api, developer_user):
    board = BoardFactory()
    cards = [CardFactory(board=board, title=f"{'Refund' if i % 2 else 'Payout'} task {i}") for i in range(7)]
    client = api.as_user(developer_user)
    found = client.get("/api/v1/cards/", {"search": "refund"}).json()["results"]
    assert {c["id"] for c in found} == {c.pk for c in cards if "Refund" in c.title}
    by_key = client.get("/api/v1/cards/", {"search": cards[0].key.lower()}).json()["results"]
    assert [c["id"] for c in by_key] == [cards[0].pk]
    seen, url = [], "/api/v1/cards/?ordering=-created_at&page_size=3"
    while url:
        body = client.get(url).json()
        seen += [c["id"] for c in body["results"]]
        url = body["next"]
    assert seen == sorted(seen, key=lambda pk: next(c.created_at for c in cards if c.pk == pk), reverse=True)
    assert len(seen) == len(set(seen)) == 7
    assert client.get("/api/v1/cards/", {"ordering": "title; drop"}).status_code == 400

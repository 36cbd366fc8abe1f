"""Changing a board after it was created: name, teams, columns and WIP limits, lanes and
the lane WIP limit (the expedite lane's), through the services, the API and the browser."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from boards import services
from boards.models import CardMove, ColumnCategory, LaneKind, ReasonKind
from tests.factories import DevTeamFactory, UserFactory
from tracker.exceptions import WipLimitExceeded

from .factories import BoardFactory, CardFactory, ReasonCodeFactory, column_of, lane_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def board():
    return BoardFactory(columns=[
        ("Backlog", ColumnCategory.BACKLOG),
        ("Ready", ColumnCategory.READY),
        ("Doing", ColumnCategory.IN_PROGRESS),
        ("Review", ColumnCategory.IN_PROGRESS),
        ("Done", ColumnCategory.DONE),
    ])  # fmt: skip


@pytest.fixture
def dev():
    return UserFactory(roles=["developer"])


# ------------------------------------------------------------------ services
def test_a_lowered_maximum_holds_from_the_next_move(board, dev):
    doing = column_of(board, ColumnCategory.IN_PROGRESS)
    CardFactory.create_batch(3, board=board, column=doing)
    services.column_update(column=doing, actor=dev, wip_max=2)  # below the 3 already there: allowed
    card = CardFactory(board=board, column=column_of(board, ColumnCategory.READY))
    with pytest.raises(WipLimitExceeded):
        services.card_pull(card=card, actor=dev)
    services.column_update(column=doing, actor=dev, wip_max=None)
    services.card_pull(card=card, actor=dev)


def test_column_limits_are_checked(board, dev):
    doing = column_of(board, ColumnCategory.IN_PROGRESS)
    with pytest.raises(ValidationError) as exc:
        services.column_update(column=doing, actor=dev, wip_min=4, wip_max=2)
    assert "wip_min cannot exceed wip_max" in str(exc.value)
    with pytest.raises(ValidationError):
        services.column_update(column=doing, actor=dev, name="  ")
    doing.refresh_from_db()
    assert (doing.name, doing.wip_min, doing.wip_max) == ("Doing", None, None)


def test_a_column_added_in_the_middle_shifts_the_rest(board, dev):
    testing = services.column_add(
        board=board, actor=dev, name="Testing", category=ColumnCategory.IN_PROGRESS, position=4, wip_max=2
    )
    names = list(board.columns.order_by("position").values_list("name", flat=True))
    assert names == ["Backlog", "Ready", "Doing", "Review", "Testing", "Done"]
    assert testing.wip_max == 2
    services.column_add(board=board, actor=dev, name="Archive", category=ColumnCategory.DONE)
    assert list(board.columns.order_by("position").values_list("name", flat=True))[-1] == "Archive"


def test_board_rename_and_teams(board, dev):
    other = BoardFactory(name="Taken")
    team = DevTeamFactory()
    services.board_update(board=board, actor=dev, name="Payments flow", teams=[team])
    board.refresh_from_db()
    assert board.name == "Payments flow" and list(board.teams.all()) == [team]
    with pytest.raises(ValidationError) as exc:
        services.board_update(board=board, actor=dev, name=other.name.upper())
    assert "already exists" in str(exc.value)


def test_the_expedite_lane_limit_counts_its_cards_in_progress(board, dev):
    expedite = lane_of(board, LaneKind.EXPEDITE)
    ready, doing = column_of(board, ColumnCategory.READY), column_of(board, ColumnCategory.IN_PROGRESS)
    review = board.columns.get(name="Review")
    services.lane_update(lane=expedite, actor=dev, wip_max=1)
    first = CardFactory(board=board, column=ready, lane=expedite)
    second = CardFactory(board=board, column=ready, lane=expedite)
    services.card_pull(card=first, actor=dev)
    # moving on within in progress, same lane: still one card in progress
    services.card_move(card=first, column=review, actor=dev)
    with pytest.raises(WipLimitExceeded) as exc:
        services.card_pull(card=second, actor=dev)
    assert "Expedite lane is at its WIP limit of 1" in str(exc.value)
    # a standard card is not held back by the expedite lane
    standard = CardFactory(board=board, column=ready, lane=lane_of(board))
    services.card_pull(card=standard, actor=dev)
    # moving a card in progress into the expedite lane counts too
    with pytest.raises(WipLimitExceeded):
        services.card_move(card=standard, column=doing, lane=expedite, actor=dev)
    # an override reason lets it through and is recorded
    reason = ReasonCodeFactory(kind=ReasonKind.WIP_OVERRIDE, code="incident", label="Live incident")
    services.card_pull(card=second, actor=dev, override_reason=reason)
    assert CardMove.objects.filter(card=second, override_reason=reason).exists()


def test_a_lane_added_goes_to_the_bottom(board, dev):
    lane = services.lane_add(board=board, actor=dev, name="Platform", kind=LaneKind.STANDARD, wip_max=3)
    assert list(board.lanes.order_by("position").values_list("name", flat=True))[-1] == "Platform"
    assert lane.wip_max == 3
    with pytest.raises(ValidationError):
        services.lane_add(board=board, actor=dev, name="", kind="nonsense")


# ------------------------------------------------------------------ API
def test_api_edits_columns_and_lanes(api, make_user, board):
    po = make_user("product_owner")
    client = api.as_user(po)
    doing = column_of(board, ColumnCategory.IN_PROGRESS)
    response = client.patch(f"/api/v1/columns/{doing.pk}/", {"wip_max": 3, "wip_min": 1}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["wip_max"] == 3 and response.json()["board"] == board.pk
    bad = client.patch(f"/api/v1/columns/{doing.pk}/", {"wip_min": 5}, format="json")
    assert bad.status_code == 400 and "wip_min" in bad.json()
    created = client.post(
        "/api/v1/columns/",
        {"board": board.pk, "name": "QA", "category": "in_progress", "position": 3},
        format="json",
    )
    assert created.status_code == 201 and created.json()["position"] == 3
    listed = client.get(f"/api/v1/columns/?board={board.pk}").json()
    assert [c["name"] for c in listed] == ["Backlog", "Ready", "Doing", "QA", "Review", "Done"]
    expedite = lane_of(board, LaneKind.EXPEDITE)
    lane = client.patch(f"/api/v1/lanes/{expedite.pk}/", {"wip_max": 1}, format="json")
    assert lane.status_code == 200 and lane.json()["wip_max"] == 1
    assert client.get(f"/api/v1/boards/{board.pk}/").json()["lanes"][0]["wip_max"] == 1
    renamed = client.patch(f"/api/v1/boards/{board.pk}/", {"name": "Renamed"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"


def test_api_refuses_developers_and_unknown_boards(api, make_user, board):
    client = api.as_user(make_user("developer"))
    doing = column_of(board, ColumnCategory.IN_PROGRESS)
    assert client.patch(f"/api/v1/columns/{doing.pk}/", {"wip_max": 3}, format="json").status_code == 403
    manager = api.as_user(make_user("manager"))
    missing = manager.post("/api/v1/lanes/", {"board": 999999, "name": "X"}, format="json")
    assert missing.status_code == 400 and "board" in missing.json()
    assert manager.get("/api/v1/columns/?board=x").status_code == 400
    every = manager.get("/api/v1/columns/").json()
    assert {c["board"] for c in every} == {board.pk} and len(every) == 5


# ------------------------------------------------------------------ browser
def _create_post(**over):
    data = {
        "name": "Mobile",
        "key_prefix": "MOB",
        "col-TOTAL_FORMS": "3",
        "col-INITIAL_FORMS": "0",
        "col-0-name": "Todo",
        "col-0-category": "backlog",
        "col-1-name": "Doing",
        "col-1-category": "in_progress",
        "col-1-wip_max": "2",
        "col-2-name": "Done",
        "col-2-category": "done",
        "lane-TOTAL_FORMS": "2",
        "lane-INITIAL_FORMS": "0",
        "lane-0-name": "Expedite",
        "lane-0-kind": "expedite",
        "lane-0-wip_max": "1",
        "lane-1-name": "",
        "lane-1-kind": "standard",
    }
    data.update(over)
    return data


def test_browser_creates_a_board_with_a_prefilled_workflow(client, make_user):
    client.force_login(make_user("product_owner"))
    page = client.get(reverse("boards:create")).content.decode()
    assert 'value="In progress"' in page and 'value="Expedite"' in page  # the usual workflow, prefilled
    response = client.post(reverse("boards:create"), _create_post())
    assert response.status_code == 302
    from boards.models import Board

    board = Board.objects.get(name="Mobile")
    assert list(board.columns.order_by("position").values_list("name", "wip_max")) == [
        ("Todo", None),
        ("Doing", 2),
        ("Done", None),
    ]
    assert list(board.lanes.values_list("name", "kind", "wip_max")) == [("Expedite", "expedite", 1)]


def test_browser_create_shows_errors_and_keeps_what_was_typed(client, make_user):
    client.force_login(make_user("product_owner"))
    response = client.post(
        reverse("boards:create"), _create_post(**{"col-1-wip_min": "5", "key_prefix": "mob"})
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Use capitals and digits" in body
    assert 'value="Doing"' in body and 'value="5"' in body
    response = client.post(reverse("boards:create"), _create_post(**{"col-1-wip_min": "5"}))
    assert response.status_code == 400
    assert "wip_min cannot exceed wip_max" in response.content.decode()
    from boards.models import Board

    assert not Board.objects.filter(name="Mobile").exists()


def test_browser_settings_edit_limits_atomically(client, make_user, board):
    client.force_login(make_user("manager"))
    columns = list(board.columns.order_by("position"))
    data = {"action": "columns"}
    for c in columns:
        data.update({f"c{c.pk}-name": c.name, f"c{c.pk}-wip_min": "", f"c{c.pk}-wip_max": ""})
    doing, review = columns[2], columns[3]
    data.update({f"c{doing.pk}-wip_max": "3", f"c{review.pk}-wip_min": "4", f"c{review.pk}-wip_max": "2"})
    response = client.post(reverse("boards:settings", args=[board.pk]), data)
    assert response.status_code == 400
    assert "wip_min cannot exceed wip_max" in response.content.decode()
    doing.refresh_from_db()
    assert doing.wip_max is None  # nothing saved when one row is refused
    data[f"c{review.pk}-wip_min"] = "1"
    response = client.post(reverse("boards:settings", args=[board.pk]), data, follow=True)
    assert "Columns saved." in response.content.decode()
    doing.refresh_from_db()
    review.refresh_from_db()
    assert (doing.wip_max, review.wip_min, review.wip_max) == (3, 1, 2)


def test_browser_settings_add_column_and_lane_limit(client, make_user, board):
    client.force_login(make_user("manager"))
    url = reverse("boards:settings", args=[board.pk])
    response = client.post(
        url,
        {
            "action": "add_column",
            "new_col-name": "QA",
            "new_col-category": "in_progress",
            "new_col-position": "4",
        },
    )
    assert response.status_code == 302
    assert board.columns.order_by("position").values_list("name", flat=True)[4] == "QA"
    expedite, standard = lane_of(board, LaneKind.EXPEDITE), lane_of(board)
    response = client.post(
        url,
        {
            "action": "lanes",
            f"l{expedite.pk}-name": "Expedite",
            f"l{expedite.pk}-wip_max": "1",
            f"l{standard.pk}-name": "Standard",
            f"l{standard.pk}-wip_max": "",
        },
    )
    assert response.status_code == 302
    expedite.refresh_from_db()
    assert expedite.wip_max == 1
    grid = client.get(reverse("boards:detail", args=[board.pk])).content.decode()
    assert "0/1 in progress" in grid


def test_only_product_owners_and_managers_change_boards(client, make_user, board):
    client.force_login(make_user("developer"))
    assert client.get(reverse("boards:settings", args=[board.pk])).status_code == 403
    assert client.get(reverse("boards:create")).status_code == 403
    assert "Board settings" not in client.get(reverse("boards:detail", args=[board.pk])).content.decode()


def test_settings_keep_a_team_the_api_gave_the_board(client, make_user, board):
    from tests.factories import TeamFactory

    support = TeamFactory(name="Second line")  # not a development team
    board.teams.add(support)
    client.force_login(make_user("manager"))
    page = client.get(reverse("boards:settings", args=[board.pk])).content.decode()
    assert "Second line" in page
    client.post(
        reverse("boards:settings", args=[board.pk]),
        {"action": "board", "name": board.name, "teams": [support.pk]},
    )
    assert list(board.teams.all()) == [support]

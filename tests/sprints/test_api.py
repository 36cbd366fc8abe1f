"""The sprint API: contract names, errors, scope changes through every entry point."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from boards.models import ColumnCategory
from sprints import services
from sprints.models import ScopeChange, SprintState

pytestmark = pytest.mark.django_db


def test_create_list_detail_patch(api, po_user, team, board):
    api.as_user(po_user)
    r = api.post(
        "/api/v1/sprints/",
        {
            "team": team.pk,
            "name": "S1",
            "goal": "g",
            "start": "2026-03-02",
            "end": "2026-03-13",
            "board": board.pk,
        },
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert {"id", "team", "name", "goal", "start", "end", "state", "board"} <= set(body)
    assert body["state"] == "planning"
    sid = body["id"]
    r = api.get("/api/v1/sprints/")
    assert r.status_code == 200 and r.json()["results"][0]["id"] == sid and "next" in r.json()
    r = api.patch(f"/api/v1/sprints/{sid}/", {"goal": "new goal"})
    assert r.status_code == 200 and r.json()["goal"] == "new goal"
    r = api.get(f"/api/v1/sprints/{sid}/members/")
    assert r.status_code == 200 and len(r.json()["results"]) == 3
    member = r.json()["results"][0]
    r = api.patch(f"/api/v1/sprints/{sid}/members/{member['id']}/", {"days_off": 2, "focus_factor": 0.5})
    assert r.status_code == 200 and r.json()["days_off"] == 2.0 and r.json()["focus_factor"] == 0.5


def test_bad_input_is_400_with_field_messages(api, po_user, team):
    api.as_user(po_user)
    r = api.post(
        "/api/v1/sprints/", {"team": team.pk, "name": "", "start": "2026-03-02", "end": "2026-03-01"}
    )
    assert r.status_code == 400
    assert "name" in r.json()
    r = api.post(
        "/api/v1/sprints/", {"team": team.pk, "name": "x", "start": "2026-03-02", "end": "2026-03-01"}
    )
    assert r.status_code == 400 and "end" in r.json()
    r = api.post("/api/v1/sprints/", {"team": 999999, "name": "x", "start": "nope"})
    assert r.status_code == 400 and {"team", "start"} <= set(r.json())


def test_start_twice_and_close_planning_are_409(api, po_user, sprint):
    api.as_user(po_user)
    r = api.post(f"/api/v1/sprints/{sprint.pk}/close/", {"confirm": True})
    assert r.status_code == 409 and r.json()["code"] == "transition_not_allowed"
    assert api.post(f"/api/v1/sprints/{sprint.pk}/start/").status_code == 200
    r = api.post(f"/api/v1/sprints/{sprint.pk}/start/")
    assert r.status_code == 409 and r.json()["code"] == "transition_not_allowed" and r.json()["detail"]


def test_capacity_endpoint_numbers_are_json_numbers(api, po_user, sprint, make_card):
    for est in (5, 8):
        services.card_sprint_set(card=make_card(estimate=est), sprint=sprint, actor=po_user)
    api.as_user(po_user)
    api.post(f"/api/v1/sprints/{sprint.pk}/start/")
    r = api.get(f"/api/v1/sprints/{sprint.pk}/capacity/")
    assert r.status_code == 200
    body = r.json()
    for key in (
        "capacity",
        "support_reserved",
        "committed",
        "unplanned",
        "completed",
        "remaining",
        "overcommitted_by",
    ):
        assert isinstance(body[key], (int, float)), key
    assert body["unit"] == "points" and body["committed"] == 13.0 and body["capacity"] == 24.0
    assert body["support_reserved"] == 4.8 and isinstance(body["at_risk"], list)


def test_card_patch_through_the_boards_api_logs_scope_changes(api, po_user, sprint, make_card):
    card = make_card(estimate=3, category=ColumnCategory.READY)
    api.as_user(po_user)
    r = api.patch(f"/api/v1/cards/{card.pk}/", {"sprint": sprint.pk})
    assert r.status_code == 200, r.json()
    assert not ScopeChange.objects.exists()  # planning: membership only
    api.post(f"/api/v1/sprints/{sprint.pk}/start/")
    late = make_card(estimate=2, category=ColumnCategory.READY)
    assert api.patch(f"/api/v1/cards/{late.pk}/", {"sprint": sprint.pk}).status_code == 200
    assert api.patch(f"/api/v1/cards/{card.pk}/", {"estimate": 5}).status_code == 200
    assert api.patch(f"/api/v1/cards/{late.pk}/", {"sprint": None}).status_code == 200
    r = api.get(f"/api/v1/sprints/{sprint.pk}/scope-changes/")
    assert r.status_code == 200
    rows = [(x["card"], x["change"], x["estimate_delta"], x["actor"]) for x in r.json()["results"]]
    assert rows == [
        (late.pk, "added", 2.0, po_user.pk),
        (card.pk, "re_estimated", 2.0, po_user.pk),
        (late.pk, "removed", -2.0, po_user.pk),
    ]
    assert {"at", "actor", "card", "change", "reason", "estimate_delta"} <= set(r.json()["results"][0])


def test_close_with_carry_over_through_the_api(api, po_user, sprint, team, board, make_card):
    card = make_card(estimate=3, category=ColumnCategory.IN_PROGRESS, sprint=sprint)
    api.as_user(po_user)
    api.post(f"/api/v1/sprints/{sprint.pk}/start/")
    nxt = services.sprint_create(
        team=team, name="Next", start=sprint.end + timedelta(days=3), board=board, actor=po_user
    )
    r = api.post(f"/api/v1/sprints/{sprint.pk}/close/", {"carry_over_to": 999999})
    assert r.status_code == 400 and "carry_over_to" in r.json()
    r = api.post(f"/api/v1/sprints/{sprint.pk}/close/", {"carry_over_to": nxt.pk, "confirm": True})
    assert r.status_code == 200 and r.json()["state"] == SprintState.CLOSED and r.json()["velocity"] == 0.0
    card.refresh_from_db()
    assert card.sprint_id == nxt.pk
    assert ScopeChange.objects.filter(sprint=sprint, card=card, change="removed").exists()


def test_adding_to_a_closed_sprint_is_409(api, po_user, sprint, make_card):
    api.as_user(po_user)
    api.post(f"/api/v1/sprints/{sprint.pk}/start/")
    api.post(f"/api/v1/sprints/{sprint.pk}/close/", {"confirm": True})
    card = make_card()
    r = api.patch(f"/api/v1/cards/{card.pk}/", {"sprint": sprint.pk})
    assert r.status_code == 409 and r.json()["code"] == "sprint_closed"


ROLES = [Role.SERVICE_DESK, Role.SUPPORT_ENGINEER, Role.DEVELOPER, Role.PRODUCT_OWNER, Role.MANAGER]


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix_api(api, make_user, role, sprint, team):
    user = make_user(role)
    api.as_user(user)
    may_plan = role in (Role.PRODUCT_OWNER, Role.MANAGER)
    assert api.get("/api/v1/sprints/").status_code == 200
    assert api.get(f"/api/v1/sprints/{sprint.pk}/capacity/").status_code == 200
    assert api.get(f"/api/v1/sprints/{sprint.pk}/scope-changes/").status_code == 200
    writes = [
        api.post("/api/v1/sprints/", {"team": team.pk, "name": "x", "start": "2026-03-02"}),
        api.patch(f"/api/v1/sprints/{sprint.pk}/", {"goal": "x"}),
        api.post(f"/api/v1/sprints/{sprint.pk}/start/"),
    ]
    assert [r.status_code for r in writes] == ([201, 200, 200] if may_plan else [403, 403, 403])


def test_no_role_no_read_and_anonymous_401(api, make_user, sprint):
    assert api.get("/api/v1/sprints/").status_code == 401
    api.as_user(make_user())
    assert api.get("/api/v1/sprints/").status_code == 403
    assert api.get(f"/api/v1/sprints/{sprint.pk}/capacity/").status_code == 403


def test_developer_edits_own_availability_only(api, sprint, team):
    dev = team.members.order_by("pk").first()
    own = sprint.members.get(user=dev)
    other = sprint.members.exclude(user=dev).first()
    api.as_user(dev)
    assert api.patch(f"/api/v1/sprints/{sprint.pk}/members/{own.pk}/", {"days_off": 1}).status_code == 200
    assert api.patch(f"/api/v1/sprints/{sprint.pk}/members/{other.pk}/", {"days_off": 1}).status_code == 403


def test_capacity_endpoint_query_count_does_not_grow_with_cards(api, po_user, team, board, make_card):
    api.as_user(po_user)
    counts = []
    # a closed sprint first, so both measured sprints have velocity history to read
    warmup = services.sprint_create(
        team=team, name="W", start=board.created_at.date() - timedelta(days=30), actor=po_user
    )
    services.sprint_start(sprint=warmup, actor=po_user, confirm=True)
    services.sprint_close(sprint=warmup, actor=po_user, confirm=True)
    for i, n in enumerate((10, 300)):
        s = services.sprint_create(
            team=team,
            name=f"Q{n}",
            start=board.created_at.date() + timedelta(days=30 * i),
            board=board,
            actor=po_user,
        )
        [make_card(estimate=2, category=ColumnCategory.READY, sprint=s) for _ in range(n)]
        services.sprint_start(sprint=s, actor=po_user, confirm=True)
        for c in list(s.cards.all()[:5]):
            services.card_estimate_set(card=c, estimate=3, actor=po_user)
        with CaptureQueriesContext(connection) as ctx:
            r = api.get(f"/api/v1/sprints/{s.pk}/capacity/")
        assert r.status_code == 200
        counts.append(len(ctx.captured_queries))
        services.sprint_close(sprint=s, actor=po_user, confirm=True)
    print("capacity API query counts (10, 300 cards):", counts)
    assert counts[0] == counts[1], counts
    assert counts[1] <= 12

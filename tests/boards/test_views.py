import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from boards import services
from boards.models import Card, CardMove, ColumnCategory, ReasonKind

from .factories import BoardFactory, CardFactory, ReasonCodeFactory, column_of, lane_of

pytestmark = pytest.mark.django_db


def bulk_cards(board, n):
    cols, lanes = list(board.columns.all()), list(board.lanes.all())
    now = timezone.now()
    Card.objects.bulk_create(
        Card(board=board, key=f"V{board.pk}-{i}", title=f"card {i}", column=cols[i % len(cols)],
             lane=lanes[i % len(lanes)], rank=i, created_at=now, blocked=i % 7 == 0,
             blocked_since=now if i % 7 == 0 else None, estimate=3)
        for i in range(n)
    )  # fmt: skip


def test_board_page_query_count_constant(client, developer_user):
    small, large = BoardFactory(), BoardFactory()
    bulk_cards(small, 20)
    bulk_cards(large, 2000)
    client.force_login(developer_user)
    counts = []
    for board in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(reverse("boards:detail", args=[board.pk]))
        assert r.status_code == 200
        counts.append(len(ctx))
    assert r.content.count(b'class="bcard ') == 2000
    assert counts[0] == counts[1], counts
    # the polled grid partial too
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("boards:detail", args=[large.pk]) + "?partial=grid")
    n_large = len(ctx)
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("boards:detail", args=[small.pk]) + "?partial=grid")
    assert len(ctx) == n_large


def test_board_list_and_metrics_query_counts(client, desk_user):
    small, large = BoardFactory(), BoardFactory()
    bulk_cards(small, 5)
    bulk_cards(large, 500)
    client.force_login(desk_user)
    counts = []
    for board in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("boards:metrics", args=[board.pk])).status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1], counts
    BoardFactory.create_batch(5)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("boards:list")).status_code == 200
    n = len(ctx)
    BoardFactory.create_batch(10)
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("boards:list"))
    assert len(ctx) == n


def test_board_page_shows_wip_flags_filters_and_support_member(client, developer_user, make_user):
    from datetime import timedelta

    from sprints.models import Sprint
    from tests.factories import DevTeamFactory

    board = BoardFactory(columns__wip={ColumnCategory.IN_PROGRESS: (2, 3), ColumnCategory.READY: (None, 1)})
    ready = column_of(board, ColumnCategory.READY)
    CardFactory.create_batch(2, board=board, column=ready)
    CardFactory(
        board=board, column=column_of(board, ColumnCategory.BACKLOG), type="defect", title="Only defect"
    )
    support = make_user("developer", first_name="Sunny", last_name="Support")
    today = timezone.localdate()
    Sprint.objects.create(team=DevTeamFactory(), board=board, name="Sprint 9", state="active", start=today,
                          end=today + timedelta(days=13), support_member=support)  # fmt: skip
    client.force_login(developer_user)
    html = client.get(reverse("boards:detail", args=[board.pk])).content.decode()
    assert "over WIP max" in html and "under WIP min" in html
    assert "Sunny Support" in html and "Sprint 9" in html
    html = client.get(reverse("boards:detail", args=[board.pk]) + "?type=defect").content.decode()
    assert "Only defect" in html and html.count('class="bcard ') == 1


def test_move_form_without_js(client, developer_user):
    board = BoardFactory(columns__wip={ColumnCategory.IN_PROGRESS: (None, 0)})
    card = CardFactory(board=board)
    client.force_login(developer_user)
    url = reverse("boards:card_move", args=[card.pk])
    assert client.get(url).status_code == 200
    doing = column_of(board, ColumnCategory.IN_PROGRESS)
    r = client.post(url, {"column": doing.pk, "lane": lane_of(board).pk, "position": ""})
    assert r.status_code == 409 and "WIP limit" in r.content.decode()
    assert 'value="' in r.content.decode()  # typed input kept
    reason = ReasonCodeFactory(kind=ReasonKind.WIP_OVERRIDE, code="incident")
    r = client.post(url, {"column": doing.pk, "lane": lane_of(board).pk, "override_reason": reason.pk})
    assert r.status_code == 302
    card.refresh_from_db()
    assert card.column == doing
    r = client.post(url, {"column": doing.pk, "lane": lane_of(board).pk, "position": "-2"})
    assert r.status_code == 400


def test_card_create_inline_and_edit_through_sprint_services(client, developer_user, monkeypatch):
    from sprints import services as sprint_services

    calls = []
    original = sprint_services.card_estimate_set
    monkeypatch.setattr(sprint_services, "card_estimate_set", lambda **kw: (calls.append(kw), original(**kw)))
    board = BoardFactory()
    client.force_login(developer_user)
    r = client.post(reverse("boards:card_create", args=[board.pk]), {"title": "Inline", "type": "story"})
    assert r.status_code == 302
    card = Card.objects.get(title="Inline")
    r = client.post(reverse("boards:card_create", args=[board.pk]), {"title": "", "type": "story"})
    assert r.status_code == 400 and "This field is required" in r.content.decode()
    data = {
        "title": "Inline 2",
        "type": "story",
        "class_of_service": "standard",
        "estimate": "5",
        "reason": "bigger",
    }
    r = client.post(reverse("boards:card", args=[card.pk]), data)
    assert r.status_code == 302
    card.refresh_from_db()
    assert card.title == "Inline 2" and card.estimate == 5
    assert calls and calls[0]["reason"] == "bigger"
    page = client.get(reverse("boards:card", args=[card.pk])).content.decode()
    assert "created it in" in page


def test_pull_and_block_from_browser(client, developer_user):
    board = BoardFactory()
    card = CardFactory(board=board, column=column_of(board, ColumnCategory.READY))
    client.force_login(developer_user)
    assert client.post(reverse("boards:card_pull", args=[card.pk])).status_code == 302
    card.refresh_from_db()
    assert card.assignee == developer_user
    reason = ReasonCodeFactory(kind=ReasonKind.BLOCK, code="vendor")
    client.post(reverse("boards:card_block", args=[card.pk]), {"reason": reason.pk, "note": "n"})
    card.refresh_from_db()
    assert card.blocked
    html = client.get(reverse("boards:detail", args=[board.pk])).content.decode()
    assert "Blocked 0m" in html or "Blocked " in html
    client.post(reverse("boards:card_unblock", args=[card.pk]))
    card.refresh_from_db()
    assert not card.blocked


ROLES = [("service_desk", False), ("support_engineer", False), ("developer", True), ("product_owner", True),
         ("manager", True)]  # fmt: skip


@pytest.mark.parametrize("role,may_write", ROLES)
def test_browser_permission_matrix(client, make_user, role, may_write):
    board = BoardFactory()
    card = CardFactory(board=board, column=column_of(board, ColumnCategory.READY))
    client.force_login(make_user(role))
    assert client.get(reverse("boards:detail", args=[board.pk])).status_code == 200
    assert client.get(reverse("boards:card", args=[card.pk])).status_code == 200
    r = client.post(reverse("boards:card_pull", args=[card.pk]))
    assert r.status_code == (302 if may_write else 403)
    r = client.post(reverse("boards:card_create", args=[board.pk]), {"title": "x", "type": "story"})
    assert r.status_code == (302 if may_write else 403)
    r = client.get(reverse("boards:card_move", args=[card.pk]))
    assert r.status_code == (200 if may_write else 403)
    assert CardMove.objects.filter(card__board=board).count() == (2 if may_write else 0)


def test_no_role_and_anonymous(client, make_user):
    board = BoardFactory()
    assert client.get(reverse("boards:detail", args=[board.pk])).status_code == 302
    client.force_login(make_user())
    assert client.get(reverse("boards:detail", args=[board.pk])).status_code == 403


def test_version_changes_when_a_card_moves(client, developer_user):
    board = BoardFactory()
    card = CardFactory(board=board)
    client.force_login(developer_user)
    url = reverse("boards:version", args=[board.pk])
    v1 = client.get(url).json()["version"]
    services.card_move(card=card, column=column_of(board, ColumnCategory.READY), actor=developer_user)
    assert client.get(url).json()["version"] != v1


def test_metrics_page_with_demo_story(client, manager_user):
    from boards import demo
    from tracker import demo as tracker_demo

    ctx = tracker_demo.seed_organisation(lambda m: None)
    demo.seed(ctx, lambda m: None)
    client.force_login(manager_user)
    r = client.get(reverse("boards:metrics", args=[ctx.extra["board"].pk]))
    assert r.status_code == 200
    m = r.context["m"]
    assert m["cycle"]["count"] >= 10
    p = m["cycle"]["percentiles"]
    assert p[50] <= p[85] <= p[95]
    assert sum(w["count"] for w in m["throughput"]) == m["cycle"]["count"]
    assert m["blocked"] and m["ageing"]
    assert len(m["cfd"]["labels"]) == 42

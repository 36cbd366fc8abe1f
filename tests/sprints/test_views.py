"""Browser pages: rendering, role checks, no-JS planning, query budgets."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from boards.models import ColumnCategory
from sprints import services
from sprints.models import ScopeChange, SprintState
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _client(client, user):
    client.force_login(user)
    return client


def test_sprint_list_is_the_nav_entry(client, developer_user, sprint):
    r = _client(client, developer_user).get(reverse("sprints:list"))
    assert r.status_code == 200
    assert reverse("sprints:list") in r.content.decode()
    assert sprint.name in r.content.decode()


def test_detail_shows_panel_support_member_and_at_risk(client, po_user, sprint, make_card, team):
    team.support_model = "rotation"
    team.save()
    services.sprint_update(sprint=sprint, actor=po_user, support_member=team.members.first())
    cards = [make_card(estimate=10, category=ColumnCategory.READY, sprint=sprint) for _ in range(3)]
    services.sprint_start(sprint=sprint, actor=po_user, confirm=True)
    html = _client(client, po_user).get(reverse("sprints:detail", args=[sprint.pk])).content.decode()
    assert 'id="capacity-panel"' in html and "hx-get" in html
    assert "On support" in html and team.members.first().display_name in html
    assert cards[-1].key in html and "at risk" in html
    assert 'id="burndown-chart"' in html
    panel = client.get(reverse("sprints:capacity", args=[sprint.pk])).content.decode()
    assert panel.strip().startswith("<section") and cards[-1].key in panel


def test_plan_without_js_move_in_reorder_start_move_out(client, po_user, sprint, make_card):
    a, b = make_card(estimate=3), make_card(estimate=5)
    c = _client(client, po_user)
    page = c.get(reverse("sprints:plan", args=[sprint.pk])).content.decode()
    assert a.key in page and "Add" in page
    for card in (a, b):
        r = c.post(reverse("sprints:plan_move", args=[sprint.pk]), {"card": card.pk, "to": "sprint"})
        assert r.status_code == 302
    a.refresh_from_db(), b.refresh_from_db()
    assert a.sprint == sprint and b.sprint == sprint and a.backlog_rank < b.backlog_rank
    c.post(reverse("sprints:plan_reorder", args=[sprint.pk]), {"card": b.pk, "direction": "up"})
    a.refresh_from_db(), b.refresh_from_db()
    assert b.backlog_rank < a.backlog_rank
    r = c.post(reverse("sprints:start", args=[sprint.pk]))
    assert r.status_code == 302
    sprint.refresh_from_db()
    assert sprint.state == SprintState.ACTIVE and sprint.committed == 8
    c.post(
        reverse("sprints:plan_move", args=[sprint.pk]), {"card": a.pk, "to": "backlog", "reason": "no room"}
    )
    assert ScopeChange.objects.filter(card=a, change="removed", reason="no room").exists()
    r = c.post(reverse("sprints:start", args=[sprint.pk]), follow=True)
    assert "cannot start" in r.content.decode()


def test_drag_and_drop_reorder_endpoint(client, po_user, sprint, make_card):
    cards = [make_card(sprint=sprint) for _ in range(3)]
    c = _client(client, po_user)
    order = [cards[2].pk, cards[0].pk, cards[1].pk]
    r = c.post(
        reverse("sprints:plan_reorder", args=[sprint.pk]),
        {"order": str(order)},
        HTTP_ACCEPT="application/json",
    )
    assert r.status_code == 200
    ranks = {card.pk: card.backlog_rank for card in sprint.cards.all()}
    assert sorted(order, key=ranks.get) == order
    r = c.post(
        reverse("sprints:plan_reorder", args=[sprint.pk]),
        {"order": "nonsense"},
        HTTP_ACCEPT="application/json",
    )
    assert r.status_code == 400


def test_create_form_shows_errors_next_to_fields_and_keeps_input(client, po_user, team):
    r = _client(client, po_user).post(
        reverse("sprints:create"),
        {"team": team.pk, "name": "Keep me", "start": "2026-03-10", "end": "2026-03-01"},
    )
    html = r.content.decode()
    assert r.status_code == 400
    assert 'id="id_end_error"' in html and 'value="Keep me"' in html
    r = client.post(reverse("sprints:create"), {"team": team.pk, "name": "Good", "start": "2026-03-02"})
    assert r.status_code == 302


def test_team_settings_page(client, po_user, developer_user, team):
    url = reverse("sprints:team_settings", args=[team.pk])
    r = _client(client, po_user).post(
        url,
        {
            "capacity_unit": "hours",
            "sprint_length_days": 10,
            "support_allocation_percent": 30,
            "support_model": "rotation",
            "estimate_P1": "8",
            "estimate_P2": "5",
            "auto_resolve_on_done": "on",
        },
    )
    assert r.status_code == 302
    team.refresh_from_db()
    assert (team.capacity_unit, team.support_allocation_percent, team.support_model) == (
        "hours",
        30,
        "rotation",
    )
    assert team.default_estimates == {"P1": 8, "P2": 5} and team.auto_resolve_on_done
    r = client.post(
        url, {"capacity_unit": "hours", "sprint_length_days": 0, "support_allocation_percent": 300}
    )
    assert r.status_code == 400 and 'id="id_support_allocation_percent_error"' in r.content.decode()
    client.force_login(developer_user)
    assert client.get(url).status_code == 200
    assert client.post(url, {"capacity_unit": "points"}).status_code == 403


ROLES = [Role.SERVICE_DESK, Role.SUPPORT_ENGINEER, Role.DEVELOPER, Role.PRODUCT_OWNER, Role.MANAGER]


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix_browser(client, make_user, role, sprint, make_card):
    user = make_user(role)
    client.force_login(user)
    may_plan = role in (Role.PRODUCT_OWNER, Role.MANAGER)
    for name in ("sprints:detail", "sprints:plan", "sprints:capacity"):
        assert client.get(reverse(name, args=[sprint.pk])).status_code == 200
    assert client.get(reverse("sprints:list")).status_code == 200
    card = make_card()
    writes = [
        client.get(reverse("sprints:create")),
        client.get(reverse("sprints:edit", args=[sprint.pk])),
        client.post(reverse("sprints:plan_move", args=[sprint.pk]), {"card": card.pk, "to": "sprint"}),
        client.post(reverse("sprints:start", args=[sprint.pk])),
    ]
    expected = [200, 200, 302, 302] if may_plan else [403, 403, 403, 403]
    assert [r.status_code for r in writes] == expected
    sprint.refresh_from_db()
    assert (sprint.state == SprintState.ACTIVE) == may_plan


def test_no_role_cannot_read(client, sprint):
    client.force_login(UserFactory())
    assert client.get(reverse("sprints:detail", args=[sprint.pk])).status_code == 403


def _measure(client, url):
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url)
    assert r.status_code == 200
    return len(ctx.captured_queries)


def test_sprint_page_and_plan_page_query_counts_do_not_grow_with_cards(
    client, po_user, team, board, make_card
):
    client.force_login(po_user)
    warmup = services.sprint_create(
        team=team, name="W", start=board.created_at.date() - timedelta(days=60), actor=po_user
    )
    services.sprint_start(sprint=warmup, actor=po_user, confirm=True)
    services.sprint_close(sprint=warmup, actor=po_user, confirm=True)
    counts = {}
    for i, n in enumerate((10, 300)):
        s = services.sprint_create(
            team=team,
            name=f"Q{n}",
            start=board.created_at.date() + timedelta(days=30 * i),
            board=board,
            actor=po_user,
        )
        assignee = team.members.first()
        cards = [
            make_card(estimate=2, category=cat, sprint=s, assignee=assignee)
            for cat in [ColumnCategory.READY, ColumnCategory.DONE] * (n // 2)
        ]
        [make_card(estimate=1) for _ in range(n)]  # backlog next to the plan
        services.sprint_start(sprint=s, actor=po_user, confirm=True)
        for c in cards[:6]:
            services.card_estimate_set(card=c, estimate=4, actor=po_user, reason="r")
        counts[n] = (
            _measure(client, reverse("sprints:detail", args=[s.pk])),
            _measure(client, reverse("sprints:plan", args=[s.pk])),
            _measure(client, reverse("sprints:capacity", args=[s.pk])),
            _measure(client, reverse("sprints:list")),
        )
        services.sprint_close(sprint=s, actor=po_user, confirm=True)
    print("query counts (detail, plan, capacity panel, list):", counts)
    assert counts[10] == counts[300], counts

"""Browser journeys in headless Chromium: planning a sprint, and the sprint page's charts."""

import pytest
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.roles import Role
from boards.models import ColumnCategory
from sprints.models import Sprint, SprintState
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_product_owner_plans_starts_and_sees_the_capacity_panel(
    page, login, live_server, po_user, sprint, make_card, screenshot
):
    cards = [
        make_card(estimate=e, category=ColumnCategory.READY, title=f"Story {i}")
        for i, e in enumerate((8, 5, 13))
    ]
    login(page, po_user)
    page.goto(f"{live_server.url}/sprints/{sprint.pk}/plan/")
    backlog = page.locator("#backlog-list")
    for card in cards:
        page.get_by_role("button", name=f"Add {card.key} to the sprint").click()
        page.wait_for_load_state("networkidle")
    assert backlog.locator("li[data-card]").count() == 0
    assert page.locator("#sprint-list li[data-card]").count() == 3
    # 26 points against a capacity of 24 minus a 20 % reserve: the line shows, the last card is beyond it
    assert page.locator("#sprint-list li.capline-item").count() == 1
    assert page.locator("#sprint-list li.beyond").count() >= 1
    screenshot(page, "sprint-plan")
    page.get_by_role("link", name="Start sprint…").click()
    page.wait_for_load_state("networkidle")
    # Over the capacity line: the start asks first, saying by how much.
    assert "over capacity by 6.8 points" in page.locator("#start-risks").inner_text()
    assert Sprint.objects.get(pk=sprint.pk).state == SprintState.PLANNING
    screenshot(page, "sprint-start-confirmation")
    page.get_by_role("button", name="Start anyway").click()
    page.wait_for_load_state("networkidle")
    assert Sprint.objects.get(pk=sprint.pk).state == SprintState.ACTIVE
    panel = page.locator("#capacity-panel")
    assert panel.is_visible()
    assert panel.locator('[data-stat="committed"]').inner_text().startswith("26")
    assert panel.locator('[data-stat="capacity"]').inner_text() == "24"
    assert "Story 2" in panel.locator("#at-risk-list").inner_text()
    screenshot(page, "sprint-started")


def _demo():
    import importlib

    from tracker import demo

    ctx = demo.seed_organisation(lambda m: None)
    for app in ("boards", "sprints"):
        importlib.import_module(f"{app}.demo").seed(ctx, lambda m: None)
    return ctx


def test_sprint_page_with_burndown_and_history_from_the_demo(page, login, live_server, screenshot):
    for role in Role.values:  # a transactional test before this one may have flushed the role groups
        Group.objects.get_or_create(name=role)
    ctx = _demo()
    paula = User.objects.get(username="paula")
    paula.set_password(PASSWORD)
    paula.save()
    assert paula.groups.filter(name="product_owner").exists()
    active = Sprint.objects.get(team=ctx.teams["Payments Dev"], state=SprintState.ACTIVE)
    login(page, paula)
    page.goto(f"{live_server.url}/sprints/{active.pk}/")
    page.wait_for_load_state("networkidle")
    # Chart.js drew on every canvas (a drawn canvas is not blank)
    for chart in ("burndown-chart", "velocity-chart", "tax-chart"):
        drawn = page.evaluate(
            "id => !!(window.Chart && window.Chart.getChart(document.getElementById(id)))",
            chart,
        )
        assert drawn, chart
    assert "On support" in page.locator("#capacity-panel").inner_text()
    assert page.locator("#support-tax tbody tr").count() == 3
    screenshot(page, "sprint-detail-burndown")
    page.goto(f"{live_server.url}/sprints/")
    screenshot(page, "sprint-list")
    page.goto(f"{live_server.url}/sprints/teams/{active.team_id}/settings/")
    screenshot(page, "team-settings")
    nxt = Sprint.objects.get(team=active.team, state=SprintState.PLANNING)
    page.goto(f"{live_server.url}/sprints/{nxt.pk}/plan/")
    screenshot(page, "sprint-plan-demo")

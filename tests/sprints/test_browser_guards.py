"""Browser: closing a sprint early asks first and says what happens to each unfinished
card; the closed sprint's page then lists them and where they went (issue 14, item 5)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from boards.models import ColumnCategory
from sprints import services
from sprints.models import Sprint, SprintCarryOver, SprintState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_closing_early_shows_the_carry_over_and_asks_first(
    page, login, live_server, po_user, team, board, sprint, make_card, screenshot
):
    services.sprint_start(sprint=sprint, actor=po_user, confirm=True)
    doing = make_card(estimate=5, category=ColumnCategory.IN_PROGRESS, sprint=sprint, title="Half done")
    make_card(estimate=3, category=ColumnCategory.DONE, sprint=sprint, title="Finished")
    nxt = services.sprint_create(
        team=team, name="Sprint 2", start=sprint.end + timedelta(days=3), board=board, actor=po_user
    )
    days_early = (sprint.end - timezone.localdate()).days
    login(page, po_user)
    page.goto(f"{live_server.url}/sprints/{sprint.pk}/")
    page.get_by_label("Unfinished cards go to").select_option(str(nxt.pk))
    page.get_by_role("button", name="Close sprint…").click()
    page.wait_for_load_state("networkidle")
    box = page.locator("#close-confirmation")
    assert f"closes {days_early} day" in box.inner_text()
    assert doing.key in page.locator("#carry-over-preview").inner_text()
    assert "Sprint 2" in page.locator("#carry-over-preview").inner_text()
    assert Sprint.objects.get(pk=sprint.pk).state == SprintState.ACTIVE
    screenshot(page, "sprint-close-confirmation")
    page.get_by_role("button", name=f"Close {days_early} day").click()
    page.wait_for_load_state("networkidle")
    assert Sprint.objects.get(pk=sprint.pk).state == SprintState.CLOSED
    row = SprintCarryOver.objects.get(sprint=sprint)
    assert (row.card_id, row.to_sprint_id) == (doing.pk, nxt.pk)
    section = page.locator("#carried-over")
    assert doing.key in section.inner_text() and "Sprint 2" in section.inner_text()
    screenshot(page, "sprint-closed-carried-over")

"""The product's signature, in a real Chromium: support logs a P2, tier 2 escalates it to
development with the impact preview, the card jumps the queue and the sprint shows the
cost, a developer pulls it and drags it to done, and the incident is back with support."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.roles import Role
from boards.models import Card, CardType, ColumnCategory, LaneKind
from boards.services import card_create
from incidents.models import Incident, Status
from sprints.models import Sprint, SprintMember, SprintState
from sprints.services import card_sprint_set, sprint_start
from tests.boards.factories import BoardFactory, column_of, lane_of
from tests.boards.test_browser import drag
from tests.factories import DevTeamFactory, ServiceFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    from tests.sla.factories import CalendarFactory, PolicyFactory

    desk = UserFactory(username="sam", first_name="Sam", roles=[Role.SERVICE_DESK])
    engineer = UserFactory(username="tariq", first_name="Tariq", roles=[Role.SUPPORT_ENGINEER])
    developer = UserFactory(username="devon", first_name="Devon", roles=[Role.DEVELOPER])
    po = UserFactory(username="paula", first_name="Paula", roles=[Role.PRODUCT_OWNER])
    desk_team = TeamFactory(name="Service Desk", tier=1, members=[desk])
    support = TeamFactory(name="Application Support", tier=2, members=[engineer])
    dev = DevTeamFactory(name="Payments Dev", members=[developer])
    dev.default_estimates = {"P1": 5, "P2": 3, "P3": 2, "P4": 1, "P5": 1}
    dev.save()
    ServiceFactory(name="Payments API", team=dev, support_team=desk_team)
    calendar = CalendarFactory(name="24x7", always_open=True, timezone="UTC")
    for priority, (response, resolution) in {"P1": (15, 240), "P2": (30, 480), "P3": (60, 1440)}.items():
        PolicyFactory(
            name=priority,
            priority=priority,
            response_minutes=response,
            resolution_minutes=resolution,
            calendar=calendar,
        )
    board = BoardFactory(
        name="Payments board", teams=[dev], columns__wip={ColumnCategory.IN_PROGRESS: (None, 3)}
    )
    today = timezone.localdate()
    sprint = Sprint.objects.create(
        team=dev,
        board=board,
        name="Sprint 42",
        goal="Faster refunds",
        start=today - timedelta(days=2),
        end=today + timedelta(days=11),
    )
    SprintMember.objects.get_or_create(sprint=sprint, user=developer, defaults={"focus_factor": Decimal("1")})
    for i, (title, estimate) in enumerate(
        [("Refund API v2", 5), ("Refund status page", 3), ("Refund e-mails", 2)]
    ):
        story = card_create(
            board=board,
            title=title,
            actor=po,
            estimate=Decimal(estimate),
            column=column_of(board, ColumnCategory.READY),
        )
        story.backlog_rank = (i + 1) * 1024
        story.save(update_fields=["backlog_rank"])
        card_sprint_set(card=story, sprint=sprint, actor=po)
    sprint_start(sprint=sprint, actor=po, confirm=True)
    assert Sprint.objects.get(pk=sprint.pk).state == SprintState.ACTIVE
    return {
        "desk": desk,
        "engineer": engineer,
        "developer": developer,
        "board": board,
        "sprint": sprint,
        "support": support,
    }


def test_escalation_journey(page, live_server, login, screenshot, world):
    board, sprint = world["board"], world["sprint"]

    # 1. The service desk logs a P2 and hands it to tier 2.
    login(page, world["desk"])
    page.goto(f"{live_server.url}/incidents/new/")
    page.get_by_label("Title").fill("Refunds fail with 'unknown acquirer' for Maestro cards")
    page.get_by_label("Description").fill(
        "Three merchants report failed refunds since this morning's release."
    )
    page.get_by_label("Service").select_option(label="Payments API")
    page.get_by_label("Impact").select_option("high")
    page.get_by_label("Urgency").select_option("medium")
    page.get_by_role("button", name="Log incident").click()
    page.wait_for_url("**/incidents/INC-*/")
    incident = Incident.objects.get(title__startswith="Refunds fail")
    assert incident.priority == "P2"
    page.get_by_role("button", name="Take it").click()
    page.wait_for_load_state("networkidle")
    page.locator("#act-escalate summary").click()
    page.get_by_label("To team").select_option(label="Application Support (tier 2)")
    page.get_by_label("Hand-over note").fill("Reproduced with a test card; looks like a code change.")
    page.get_by_role("button", name="Escalate / hand over").click()
    page.wait_for_load_state("networkidle")
    screenshot(page, "journey-1-logged-and-escalated-to-tier-2")

    # 2. Tier 2 escalates to development and sees the impact before confirming.
    page.context.clear_cookies()
    login(page, world["engineer"])
    page.goto(f"{live_server.url}/incidents/{incident.key}/")
    page.get_by_role("button", name="Take it").click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name="Escalate to development…").click()
    page.wait_for_url(f"**/incidents/{incident.key}/escalate-to-development/")
    impact = page.locator("#impact")
    assert "Sprint 42" in impact.inner_text()
    assert "support reserve" in impact.inner_text()
    assert "Refund status page" in page.locator('[data-testid="newly-at-risk"]').inner_text()
    assert "before" in impact.inner_text() or "after" in impact.inner_text()  # SLA due vs sprint end
    page.get_by_label("Note").fill("Stack trace: AcquirerRouter.resolve() returns None for BIN 6759.")
    screenshot(page, "journey-2-impact-preview")
    assert not Card.objects.filter(type=CardType.PRODUCTION_DEFECT).exists()  # the preview wrote nothing
    page.get_by_role("button", name="Confirm escalation").click()
    page.wait_for_url(f"**/incidents/{incident.key}/")
    defect = Card.objects.get(type=CardType.PRODUCTION_DEFECT)
    assert page.locator("#dev-panel").get_by_text(defect.key, exact=True).first.is_visible()
    incident.refresh_from_db()
    assert incident.status == Status.ON_HOLD and incident.tier == 3
    screenshot(page, "journey-3-incident-with-development")

    # 3. The card is at the top of Ready in the expedite lane; the sprint shows the cost.
    page.context.clear_cookies()
    login(page, world["developer"])
    page.goto(f"{live_server.url}/boards/{board.pk}/")
    ready, expedite = column_of(board, ColumnCategory.READY), lane_of(board, LaneKind.EXPEDITE)
    first = page.locator(f'ol.cell[data-column="{ready.pk}"][data-lane="{expedite.pk}"] > li').first
    assert defect.key in first.inner_text()
    screenshot(page, "journey-4-board-expedite")
    page.goto(f"{live_server.url}/sprints/{sprint.pk}/")
    assert float(page.locator('[data-stat="unplanned"]').inner_text().split()[0]) >= 3
    assert "Refund status page" in page.locator("#at-risk-list").inner_text()
    screenshot(page, "journey-5-sprint-capacity")

    # 4. The developer pulls it and drags it to done.
    page.goto(f"{live_server.url}/boards/{board.pk}/")
    page.get_by_role("button", name=f"Pull {defect.key}").click()
    page.wait_for_load_state("networkidle")
    defect.refresh_from_db()
    assert defect.column.category == ColumnCategory.IN_PROGRESS and defect.assignee == world["developer"]
    done = column_of(board, ColumnCategory.DONE)
    page.goto(f"{live_server.url}/boards/{board.pk}/")
    drag(
        page,
        page.locator(f"#card-{defect.pk}"),
        page.locator(f'ol.cell[data-column="{done.pk}"][data-lane="{expedite.pk}"]'),
    )
    page.wait_for_timeout(1500)
    page.reload()
    assert page.locator(f'ol.cell[data-column="{done.pk}"] #card-{defect.pk}').is_visible()
    screenshot(page, "journey-6-card-done")

    # 5. The incident is back with support, with the note; tier 2 resolves it.
    incident.refresh_from_db()
    assert incident.status == Status.IN_PROGRESS and incident.team == world["support"]
    page.context.clear_cookies()
    login(page, world["engineer"])
    page.goto(f"{live_server.url}/incidents/{incident.key}/")
    assert page.get_by_text(f"Development finished {defect.key}").first.is_visible()
    page.locator("#act-resolve summary").click()
    page.get_by_label("Resolution code").select_option("fixed")
    page.get_by_label("Resolution note").fill(
        f"Fixed by {defect.key}; merchant confirmed refunds go through."
    )
    page.get_by_role("button", name="Resolve").click()
    page.wait_for_load_state("networkidle")
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED
    screenshot(page, "journey-7-resolved")

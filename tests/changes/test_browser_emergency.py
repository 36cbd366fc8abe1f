"""Browser: an emergency change is triaged with an estimate and the escalation's impact
preview, which follows the estimate as it is typed (issue 14, item 6)."""

from decimal import Decimal

import pytest

from changes.models import ChangeStatus, Kind
from changes.services import change_request_create
from sprints.models import SprintState
from tests.boards.factories import CardFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_product_owner_estimates_an_emergency_and_sees_its_cost_before_confirming(
    page, live_server, login, po_user, engineer_user, dev_team, board, make_sprint, screenshot
):
    sprint = make_sprint(state=SprintState.ACTIVE, committed=Decimal("10"))
    CardFactory(board=board, sprint=sprint, estimate=Decimal("10"), title="Committed work")
    change = change_request_create(
        title="Block fraudulent BIN range",
        actor=engineer_user,
        team=dev_team,
        kind=Kind.EMERGENCY,
        justification="Active fraud attack",
    )
    login(page, po_user)
    page.goto(f"{live_server.url}/changes/triage/")
    page.get_by_role("link", name="Estimate and review impact…").click()
    page.wait_for_load_state("networkidle")
    impact = page.locator("#impact")
    assert "This emergency change needs 5" in impact.inner_text()  # the team's P1 default
    with page.expect_response(lambda r: "triage-preview" in r.url):
        page.get_by_label("Estimate").fill("8")
        page.get_by_label("Estimate").press("Tab")
    page.wait_for_function("document.querySelector('#impact').innerText.includes('needs 8')")
    screenshot(page, "change-emergency-triage-preview")
    page.get_by_role("button", name="Confirm decision").click()
    page.wait_for_load_state("networkidle")
    change.refresh_from_db()
    assert change.status == ChangeStatus.SCHEDULED and change.card.estimate == Decimal("8")
    assert change.card.sprint_id == sprint.pk

"""Browser journey (issue 17): several incidents → one problem → known error → a new similar
incident gets the workaround suggested and is linked in one click → the problem is escalated
to development (one card) → the fix is done → the incidents are resolved together, each
requester mailed once."""

import pytest

from boards.models import ColumnCategory
from boards.services import card_move
from incidents.models import Incident, Status
from mail.models import MailKind, OutboundMail
from problems.models import Problem, ProblemStatus
from tests.boards.factories import column_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_from_incidents_to_a_known_error_to_one_fix(
    page, live_server, login, screenshot, sla_policies, customer_incident, customers, desk_user,
    engineer_user, developer_user, manager_user, board, service,
):  # fmt: skip
    logged = [
        customer_incident(customer=customers[0], title="Login loops on Safari", impact="medium"),
        customer_incident(customer=customers[1], title="Safari keeps redirecting to login"),
        customer_incident(customer=customers[2], title="Cannot sign in with Safari 17", impact="low"),
    ]
    url = live_server.url

    # The engineer groups the three incidents (as the queue's selection hands them over).
    login(page, engineer_user)
    page.goto(f"{url}/problems/new/?incidents={','.join(str(i.pk) for i in logged)}")
    page.get_by_label("Title").fill("Safari login loop after the SSO change")
    screenshot(page, "problem-create-from-incidents")
    page.get_by_role("button", name="Open problem").click()
    page.wait_for_load_state("networkidle")
    problem = Problem.objects.get()
    assert page.url.endswith(f"/problems/{problem.key}/")
    assert "3 open incidents" in page.inner_text(".inc-head")

    # Found a workaround: the problem becomes a known error.
    page.get_by_text("Edit the problem: root cause, workaround, owner…").click()
    page.get_by_label("Workaround").fill("Clear the site's cookies in Safari, then sign in again.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert "Known error — workaround" in page.inner_text("#workaround")
    screenshot(page, "problem-known-error")
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.KNOWN_ERROR

    # The service desk logs a similar incident: the form offers the known error as they type.
    page.context.clear_cookies()
    login(page, desk_user)
    page.goto(f"{url}/incidents/new/")
    page.get_by_label("Service").select_option(str(service.pk))
    with page.expect_response(lambda r: "/problems/suggestions/" in r.url and "loop" in r.url):
        page.get_by_label("Title").fill("Safari login loop again")
    known = page.get_by_test_id("known-error")
    known.wait_for()
    assert problem.key in known.inner_text() and "Clear the site's cookies" in known.inner_text()
    screenshot(page, "incident-log-suggests-known-error")
    page.get_by_role("button", name=f"Log it linked to {problem.key}").click()
    page.wait_for_load_state("networkidle")
    new = Incident.objects.get(title="Safari login loop again")
    assert page.url.endswith(f"/incidents/{new.key}/")
    assert "Clear the site's cookies" in page.get_by_test_id("workaround").inner_text()
    screenshot(page, "incident-shows-workaround")
    assert problem.incidents.count() == 4

    # The engineer escalates the problem: one card for all its incidents.
    page.context.clear_cookies()
    login(page, engineer_user)
    page.goto(f"{url}/problems/{problem.key}/")
    page.get_by_role("link", name="Escalate to development…").click()
    page.wait_for_load_state("networkidle")
    assert "4 open incidents will wait on the card" in page.inner_text("#escalate-form")
    screenshot(page, "problem-escalate")
    page.get_by_role("button", name="Confirm escalation").click()
    page.wait_for_load_state("networkidle")
    problem.refresh_from_db()
    card = problem.card
    assert card is not None and card.incidents.count() == 4
    assert set(
        Incident.objects.filter(problem_link__problem=problem).values_list("hold_reason", flat=True)
    ) == {"awaiting_development"}

    # Development finishes the card (its own board's move; boards tests cover the drag).
    card_move(card=card, column=column_of(board, ColumnCategory.DONE), actor=developer_user)
    page.reload()
    assert f"Development finished {card.key}" in page.inner_text("main")
    screenshot(page, "problem-fix-done")

    # The problem's manager resolves the problem and its incidents together (the engineer
    # could not resolve the desk's own incident: test_services covers that refusal).
    page.context.clear_cookies()
    login(page, manager_user)
    page.goto(f"{url}/problems/{problem.key}/")
    page.get_by_role("link", name="Resolve the problem and its incidents…").click()
    page.wait_for_load_state("networkidle")
    assert page.locator('input[name="incidents"]:checked').count() == 4
    page.get_by_label("Root cause").fill("The SSO change set a cookie Safari rejects.")
    page.get_by_label("Resolution note for the customers").fill("Fixed in today's release; sign in again.")
    screenshot(page, "problem-resolve-confirm")
    page.get_by_role("button", name="Resolve problem and the ticked incidents").click()
    page.wait_for_load_state("networkidle")
    assert "4 incidents resolved" in page.inner_text(".messages")
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.RESOLVED
    incidents = list(Incident.objects.filter(problem_link__problem=problem))
    assert {i.status for i in incidents} == {Status.RESOLVED}
    for incident in incidents:
        mails = OutboundMail.objects.filter(incident=incident, kind=MailKind.RESOLUTION).count()
        assert mails == (1 if incident.requester_id else 0)
    screenshot(page, "problem-resolved")

    # The manager's view.
    page.goto(f"{url}/problems/report/?status=all")
    assert problem.key in page.inner_text("table.report")
    screenshot(page, "problem-report")
    page.goto(f"{url}/problems/?status=")
    assert problem.key in page.inner_text("table.problems")
    screenshot(page, "problem-list")

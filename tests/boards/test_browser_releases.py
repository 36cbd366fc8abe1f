"""Browser journeys: from a card to its incidents, and deploying a release that returns the
incidents waiting on it to support."""
# The escalation journey's fixtures are imported by name, so tests take them as arguments.
# ruff: noqa: F811

import re

import pytest

from boards.models import Card, Release
from boards.services import release_create
from escalation.services import incident_escalate_to_development
from incidents.models import Status
from incidents.services import incident_link_cause
from tests.escalation.conftest import board, desk_team, dev_team, log_incident, service  # noqa: F401
from tests.sla.factories import CalendarFactory, PolicyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def escalated_in_release(log_incident, engineer_user, developer_user, board):
    """An incident escalated into a card tagged with release 2026.12, and one it caused."""
    PolicyFactory(priority="P2", calendar=CalendarFactory(always_open=True, hours={}, timezone="UTC"))
    incident = log_incident(title="Card payments fail")
    card = incident_escalate_to_development(incident=incident, actor=engineer_user).card
    release = release_create(board=board, name="2026.12", actor=developer_user)
    Card.objects.filter(pk=card.pk).update(release=release)
    caused = log_incident(title="Refunds double-charged", impact="low")
    incident_link_cause(incident=caused, card=card, actor=engineer_user)
    incident.refresh_from_db()
    return incident, card, release, caused


def test_card_to_incident_and_deploying_the_release_returns_it_to_support(
    page, live_server, login, developer_user, desk_team, escalated_in_release, screenshot
):
    incident, card, release, caused = escalated_in_release
    developer_user.time_zone = "Europe/Berlin"
    developer_user.save(update_fields=["time_zone"])
    login(page, developer_user)

    # the card shows the incident it carries and the one it caused, each a link
    page.goto(f"{live_server.url}/boards/cards/{card.pk}/")
    linked = page.locator("#linked-incidents")
    row = linked.locator("tr", has_text=incident.key)
    assert "On hold" in row.inner_text() and "Awaiting development" in row.inner_text()
    assert re.search(r"\d{2}:\d{2} CET", row.inner_text())
    assert caused.key in page.locator("#caused-incidents").inner_text()
    screenshot(page, "card-linked-and-caused-incidents")
    row.get_by_role("link", name=re.compile(incident.key)).click()
    page.wait_for_url(f"**/incidents/{incident.key}/")
    assert "Card payments fail" in page.locator("h1").inner_text()
    assert incident.key in page.locator("main").inner_text()

    # the release page lists the card and the incident waiting on it
    page.goto(f"{live_server.url}/boards/cards/{card.pk}/")
    page.get_by_role("link", name="2026.12").click()
    page.wait_for_url(f"**/boards/releases/{release.pk}/")
    assert card.key in page.locator("#release-cards").inner_text()
    page.get_by_role("link", name="Mark deployed…").click()
    page.wait_for_url(f"**/boards/releases/{release.pk}/deploy/")
    assert "1 open incident linked to its cards goes back" in page.locator("main").inner_text()
    screenshot(page, "release-deploy-confirmation")
    stale = page.context.new_page()  # a second tab left open on the confirmation
    stale.goto(page.url)
    page.bring_to_front()
    page.get_by_role("button", name="Mark deployed").click()
    page.wait_for_url(f"**/boards/releases/{release.pk}/")

    body = page.locator("main").inner_text()
    assert "is marked deployed" in body
    release.refresh_from_db()
    assert release.deployed_at is not None and re.search(r"Deployed\s+\d+ \w+ \d{4} \d{2}:\d{2} CET", body)
    back = page.locator("#linked-incidents tr", has_text=incident.key).inner_text()
    assert "In progress" in back and desk_team.name in back
    incident.refresh_from_db()
    assert incident.status == Status.IN_PROGRESS and incident.team == desk_team
    assert page.get_by_role("link", name="Mark deployed…").count() == 0
    screenshot(page, "release-deployed")

    # a second try from the stale tab is refused, and says when it was deployed
    stale.bring_to_front()
    stale.get_by_role("button", name="Mark deployed").click()
    alert = stale.get_by_role("alert")
    alert.wait_for()
    assert "2026.12 was already deployed." in alert.inner_text() and "CET" in alert.inner_text()
    assert Release.objects.get(pk=release.pk).deployed_at == release.deployed_at
    screenshot(stale, "release-deploy-twice")
    # reopening the confirmation now leads back to the release
    page.bring_to_front()
    page.goto(f"{live_server.url}/boards/releases/{release.pk}/deploy/")
    page.wait_for_url(f"**/boards/releases/{release.pk}/")
    assert "was already deployed" in page.locator("main").inner_text()


def test_release_list_from_the_nav(page, live_server, login, desk_user, escalated_in_release, screenshot):
    _incident, _card, release, _caused = escalated_in_release
    login(page, desk_user)
    page.goto(f"{live_server.url}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Releases").click()
    page.wait_for_url("**/boards/releases/")
    row = page.locator("table.releases tr", has_text="2026.12")
    assert "Payments board" in row.inner_text() and "Not yet" in row.inner_text()
    assert page.get_by_text("Plan a release").count() == 0  # the service desk reads, it does not plan
    screenshot(page, "release-list")
    row.get_by_role("link", name="2026.12").click()
    page.wait_for_url(f"**/boards/releases/{release.pk}/")


def test_developer_plans_a_release_from_the_board(
    page, live_server, login, developer_user, board, screenshot
):
    login(page, developer_user)
    page.goto(f"{live_server.url}/boards/{board.pk}/")
    page.locator("main").get_by_role("link", name="Releases", exact=True).click()
    page.wait_for_url(f"**/boards/releases/?board={board.pk}")
    assert page.get_by_label("Board").input_value() == str(board.pk)
    page.get_by_label("Name").fill("2027.01")
    page.get_by_label("Planned for").fill("2027-01-15")
    screenshot(page, "release-list-plan-form")
    page.get_by_role("button", name="Plan release").click()
    release = Release.objects.get(board=board, name="2027.01")
    page.wait_for_url(f"**/boards/releases/{release.pk}/")
    assert "15 Jan 2027" in page.locator("main").inner_text()
    assert str(release.planned_for) == "2027-01-15"
    # its edit form reopens with the date, and saving it as it is keeps the date
    edit = page.locator("#release-edit")
    assert edit.get_by_label("Planned for").input_value() == "2027-01-15"
    screenshot(page, "release-detail-edit")
    edit.get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")
    assert "Release “2027.01” saved." in page.locator("main").inner_text()
    release.refresh_from_db()
    assert str(release.planned_for) == "2027-01-15"
    assert page.locator("#release-edit").get_by_label("Planned for").input_value() == "2027-01-15"
    # the same name again: refused next to the field, what was typed kept
    page.goto(f"{live_server.url}/boards/releases/?board={board.pk}")
    page.get_by_label("Name").fill("2027.01")
    page.get_by_label("Planned for").fill("2027-02-01")
    page.get_by_role("button", name="Plan release").click()
    assert "already has a release with that name" in page.locator(".field.has-error").inner_text()
    assert page.get_by_label("Planned for").input_value() == "2027-02-01"

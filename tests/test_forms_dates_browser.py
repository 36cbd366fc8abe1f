"""Every edit form with a date, in headless Chromium: the date input shows the stored date,
saving the form unchanged keeps it, and the second visit shows and keeps it again.

Before the ISO date widget the inputs were rendered with the en-GB value `18/12/2026`,
which Chromium's `<input type="date">` rejects: the field showed empty, saving a card
erased its due date and saving a sprint failed with "This field is required"."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group

from accounts.roles import Role
from boards.models import Card, Release
from sprints import services as sprint_services
from sprints.models import Sprint
from tests.boards.factories import BoardFactory, CardFactory, ReleaseFactory
from tests.factories import DevTeamFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DUE = date(2026, 12, 18)  # day 18: a dd/mm/yyyy value would read 18/12/2026


@pytest.fixture
def planner(make_user):
    # transactional tests before this one may have flushed the role groups
    for role in Role.values:
        Group.objects.get_or_create(name=role)
    return make_user(Role.PRODUCT_OWNER, username="planner")


@pytest.fixture
def board(make_user):
    team = DevTeamFactory(name="Payments Dev", members=[make_user(Role.DEVELOPER, username="dev1")])
    return BoardFactory(name="Payments board", teams=[team])


def _round_trip(page, url, form, expected: dict, saved_text: str, after_save: str):
    """Open `url`, check each date input shows its ISO value (the browser accepted it),
    save the form unchanged and check where it lands; twice (the second visit)."""
    for visit in (1, 2):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        for selector, value in expected.items():
            field = page.locator(f"{form} {selector}")
            assert field.get_attribute("type") == "date"
            assert field.input_value() == value, (visit, selector)
        page.locator(form).get_by_role("button", name="Save").click()
        page.wait_for_load_state("networkidle")
        assert page.locator(".error").count() == 0, page.locator(".error").all_inner_texts()
        assert saved_text in page.locator("body").inner_text(), visit
        assert after_save in page.url, (visit, page.url)


def test_card_edit_form_keeps_its_due_date(page, login, live_server, planner, board, screenshot):
    card = CardFactory(board=board, title="Refund export", due_date=DUE, estimate=3)
    login(page, planner)
    url = f"{live_server.url}/boards/cards/{card.pk}/"
    form = "form:has(#id_due_date)"
    page.goto(url)
    page.locator("#id_due_date").scroll_into_view_if_needed()
    screenshot(page, "card-edit-due-date")
    _round_trip(page, url, form, {"#id_due_date": "2026-12-18"}, f"Saved {card.key}.", f"/cards/{card.pk}/")
    card = Card.objects.get(pk=card.pk)
    assert card.due_date == DUE
    # and a changed date is saved as typed
    page.goto(url)
    page.locator("#id_due_date").fill("2027-01-04")
    page.locator(form).get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")
    assert Card.objects.get(pk=card.pk).due_date == date(2027, 1, 4)
    page.goto(url)
    assert page.locator("#id_due_date").input_value() == "2027-01-04"


def test_sprint_edit_form_keeps_its_first_and_last_day(page, login, live_server, planner, board, screenshot):
    start = date(2026, 12, 14)
    sprint = sprint_services.sprint_create(
        team=board.teams.get(),
        name="Sprint 9",
        start=start,
        end=start + timedelta(days=11),
        board=board,
        actor=planner,
    )
    login(page, planner)
    url = f"{live_server.url}/sprints/{sprint.pk}/edit/"
    page.goto(url)
    screenshot(page, "sprint-edit-dates")
    _round_trip(
        page,
        url,
        "form:has(#id_start)",
        {"#id_start": "2026-12-14", "#id_end": "2026-12-25"},
        "Sprint saved.",
        f"/sprints/{sprint.pk}/",
    )
    sprint = Sprint.objects.get(pk=sprint.pk)
    assert (sprint.start, sprint.end) == (start, date(2026, 12, 25))


def test_release_edit_form_keeps_its_planned_day(page, login, live_server, planner, board):
    release = ReleaseFactory(board=board, name="2026.12", planned_for=DUE)
    login(page, planner)
    url = f"{live_server.url}/boards/releases/{release.pk}/"
    _round_trip(
        page,
        url,
        "#release-edit form",
        {"#id_planned_for": "2026-12-18"},
        "Release “2026.12” saved.",
        f"/releases/{release.pk}/",
    )
    assert Release.objects.get(pk=release.pk).planned_for == DUE

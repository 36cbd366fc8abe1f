"""SLA settings in headless Chromium: a manager reads, edits a calendar, sees errors."""

import pytest
from django.contrib.auth.models import Group

from sla import demo
from sla.models import BusinessCalendar
from tracker.demo import DemoContext


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_manager_works_the_sla_settings_pages(page, live_server, login, make_user, screenshot):
    Group.objects.get_or_create(name="manager")
    manager = make_user("manager", username="max")
    demo.seed(DemoContext(), lambda m: None)
    login(page, manager)
    page.get_by_role("link", name="SLA settings").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="SLA settings").is_visible()
    assert page.get_by_text("P1 critical — 24×7").is_visible()
    screenshot(page, "sla-settings")

    page.get_by_role("link", name="London office hours").click()
    page.get_by_label("Saturday").fill("10:00-14:00")
    page.get_by_label("Time zone").fill("Europe/Lndon")
    page.get_by_role("button", name="Save calendar").click()
    assert page.get_by_role("alert").first.is_visible()
    assert page.get_by_label("Saturday").input_value() == "10:00-14:00"
    screenshot(page, "sla-calendar-form-error")
    page.get_by_label("Time zone").fill("Europe/London")
    page.get_by_role("button", name="Save calendar").click()
    page.wait_for_url(f"{live_server.url}/sla/")
    assert BusinessCalendar.objects.get(name="London office hours").hours["sat"] == [["10:00", "14:00"]]

    page.get_by_role("link", name="P2 high — business hours").click()
    assert page.get_by_label("On hold awaiting customer").is_checked()
    assert not page.get_by_label("On hold awaiting development").is_checked()
    screenshot(page, "sla-policy-form")

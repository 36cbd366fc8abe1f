"""A manager reads the dashboards in headless Chromium: narrows to a team, drills into the
breaches, then opens the delivery dashboard. Screenshots land in tests/artifacts."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from tests.dashboards.test_pages import seed


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_manager_narrows_the_sla_dashboard_and_drills_into_breaches(
    page, live_server, login, make_user, screenshot
):
    for name in ("manager", "service_desk", "support_engineer", "developer", "product_owner"):
        Group.objects.get_or_create(name=name)
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    from tests.boards.factories import BoardFactory
    from tests.factories import CustomerFactory, DevTeamFactory, ServiceFactory, TeamFactory
    from tests.sla.factories import PolicyFactory

    desk = TeamFactory(name="Night desk")
    dev = DevTeamFactory(name="Night dev")
    world = {
        "team": desk,
        "dev": dev,
        "board": BoardFactory(name="Night board", teams=[dev]),
        "service": ServiceFactory(name="Night batch", support_team=desk, team=dev),
        "customer": CustomerFactory(name="Nocturne Ltd"),
        "policy": PolicyFactory(),
    }
    seed(world, 120)
    manager = make_user("manager", username="mona", first_name="Mona", last_name="Manager")

    login(page, manager)
    page.get_by_role("link", name="Dashboards").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="SLA dashboard").is_visible()
    assert page.locator("#trend-chart").bounding_box()["height"] > 100  # Chart.js drew into it
    screenshot(page, "dashboard-sla")

    page.get_by_label("Team").select_option(label="Night desk")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state("networkidle")
    assert f"team={desk.pk}" in page.url
    assert "· Night desk" in page.locator("main").inner_text()
    breaches = page.get_by_test_id("breach-count")
    count = int(page.get_by_test_id("breached-incidents").inner_text())
    assert int(breaches.inner_text()) >= count > 0
    screenshot(page, "dashboard-sla-team")

    breaches.click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Breaches recorded in the period").is_visible()
    assert f"{count} incident" in page.locator("main").inner_text()
    rows = page.locator("table.list tbody tr")
    assert rows.count() == min(count, 50)
    assert set(rows.locator("td:nth-child(5)").all_inner_texts()) == {"Night desk"}
    screenshot(page, "dashboard-sla-breaches")

    page.get_by_role("link", name="← SLA dashboard").click()
    page.get_by_role("link", name="Delivery dashboard →").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Delivery dashboard", exact=False).is_visible()
    assert page.locator("#tax-chart").is_visible()
    screenshot(page, "dashboard-delivery")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_product_owner_opens_the_delivery_dashboard_from_the_menu(
    page, live_server, login, make_user, screenshot
):
    """The delivery dashboard is the product owner's as much as the manager's; the SLA
    dashboards are not (dashboards.permissions), and the page offers no link to them."""
    for name in ("manager", "service_desk", "support_engineer", "developer", "product_owner"):
        Group.objects.get_or_create(name=name)
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    po = make_user("product_owner", username="polly", first_name="Polly", last_name="Owner")

    login(page, po)
    nav = page.get_by_role("navigation")
    assert nav.get_by_role("link", name="Delivery").count() == 1
    assert nav.get_by_role("link", name="Dashboards").count() == 0
    nav.get_by_role("link", name="Delivery").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Delivery dashboard", exact=False).is_visible()
    assert page.locator("#tax-chart").is_visible()
    assert page.get_by_role("link", name="← SLA dashboard").count() == 0
    screenshot(page, "dashboard-delivery-product-owner")
    # the CSV of the velocity table is theirs too; the SLA page is not
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").first.click()
    assert download.value.suggested_filename.startswith("tandem-velocity-")
    assert page.request.get(live_server.url + "/dashboards/sla/").status == 403

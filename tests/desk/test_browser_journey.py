"""Queue views in a real Chromium: filter by customer and date range, save the view shared
with the team, a teammate opens it, selects the three incidents and assigns them to
themselves with a note; the summary shows two done and one refused (with why)."""

from datetime import datetime

import pytest
from playwright.sync_api import expect

from desk.models import SavedView
from incidents import services as incident_services
from incidents.models import Comment, Incident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_filter_save_share_open_and_act_in_bulk(
    browser, page, live_server, login, screenshot, org, desk2, contoso, log_incident
):
    def at(day, hour=10):
        return datetime.fromisoformat(f"2026-11-{day:02d}T{hour:02d}:00:00+00:00")

    wanted = [
        log_incident(title="Contoso: invoices PDF blank", customer=contoso, at=at(9, 8)),
        log_incident(title="Contoso: SSO loop on Safari", customer=contoso, at=at(11)),
        log_incident(title="Contoso: export times out", customer=contoso, at=at(13, 22)),
    ]
    log_incident(title="Contoso: old report", customer=contoso, at=at(2))  # before the range
    log_incident(title="Northwind: payouts late", customer=org.customer, at=at(10))  # another customer
    # One of the three went to tier 2 meanwhile: the desk may no longer assign it.
    incident_services.incident_escalate(incident=wanted[2], actor=org.desk, team=org.t2, note="Needs tier 2")

    # The desk agent filters by customer and created date range, then saves the view for the team.
    login(page, org.desk)
    page.goto(f"{live_server.url}/incidents/?tab=all")
    filters = page.locator("form.filters")
    with page.expect_response(lambda r: "/incidents/" in r.url and "customer=" in r.url):
        filters.get_by_label("Customer", exact=True).select_option(label="Contoso")
    filters.get_by_label("Created from").fill("2026-11-09")
    with page.expect_response(lambda r: "created_to=2026-11-13" in r.url):
        filters.get_by_label("Created to").fill("2026-11-13")
        filters.get_by_label("Created to").dispatch_event("change")
    rows = page.locator("#queue-results tbody tr")
    expect(rows).to_have_count(3)
    assert sorted(rows.locator("td:nth-child(4) a").all_inner_texts()) == sorted(i.title for i in wanted)
    # Typing the date fires input and change: let the last swap land before opening the save
    # form, or it re-renders the form closed under the cursor.
    page.wait_for_load_state("networkidle")
    page.get_by_text("Save this view").click()
    page.get_by_label("View name").fill("Contoso, 9–13 Nov")
    page.get_by_label("Share with").select_option(label="Service Desk")
    page.get_by_role("button", name="Save view").click()
    page.wait_for_load_state("networkidle")
    view = SavedView.objects.get(name="Contoso, 9–13 Nov")
    assert view.team == org.t1 and view.query["created_to"] == "2026-11-13"
    assert page.get_by_text("Saved the view").is_visible()

    # A teammate opens it from their queue, selects the page and assigns the lot to themselves.
    other = browser.new_context(viewport={"width": 1400, "height": 900}, timezone_id="Europe/London")
    teammate = other.new_page()
    teammate.set_default_timeout(15000)
    login(teammate, desk2)
    teammate.goto(f"{live_server.url}/incidents/")
    teammate.get_by_role("link", name="Contoso, 9–13 Nov").click()
    teammate.wait_for_load_state("networkidle")
    assert teammate.locator("#queue-results tbody tr").count() == 3
    assert teammate.get_by_text("Showing Contoso, 9–13 Nov").is_visible()
    teammate.get_by_label("Select every incident on this page").check()
    bar = teammate.locator("#bulk-form")
    assert teammate.locator("[data-bulk-count]").inner_text() == "3"
    bar.locator("select[name=action]").select_option(label="Assign")
    assert bar.get_by_label("New status", exact=True).is_hidden()  # only the action's own fields
    bar.get_by_label("Assign to", exact=True).select_option(label="Me")
    bar.get_by_label("Internal note", exact=True).fill("Picking these up together for Contoso.")
    screenshot(teammate, "desk-queue-bulk-bar")
    teammate.get_by_role("button", name="Apply to selected").click()
    teammate.wait_for_url("**/desk/bulk/*/")
    assert teammate.get_by_role("heading", name="Assign: 2 done, 1 refused").is_visible()
    refused = teammate.locator(".refused li")
    assert refused.count() == 1 and wanted[2].key in refused.inner_text()
    assert "only its team, its assignee or a manager" in refused.inner_text()
    screenshot(teammate, "desk-bulk-summary")

    assert {i.key for i in Incident.objects.filter(assignee=desk2)} == {wanted[0].key, wanted[1].key}
    assert set(
        Comment.objects.filter(author=desk2, public=False).values_list("incident__key", flat=True)
    ) == {
        wanted[0].key,
        wanted[1].key,
    }
    # Back to the queue with the same view open.
    teammate.get_by_role("link", name="← Back to the queue").click()
    teammate.wait_for_load_state("networkidle")
    assert teammate.get_by_text("Showing Contoso, 9–13 Nov").is_visible()
    other.close()

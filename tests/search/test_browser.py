"""The search box in a real Chromium: "/" focuses the top bar's box, the results page
highlights the words, and the queue filters by the same words."""

import pytest

from incidents import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_from_the_top_bar_then_the_queue(page, live_server, login, screenshot, desk):
    services.incident_comment(
        incident=desk.safari, actor=desk.tariq, body="The issuer's ACS page loops only on Safari 17."
    )
    desk.log("Safari shows a blank checkout page", customer=desk.contoso, description="Safari 16 and 17.")
    login(page, desk.tariq)
    page.goto(f"{live_server.url}/incidents/")
    page.keyboard.press("/")
    box = page.get_by_role("searchbox", name="Search Tandem", exact=False)
    assert box.evaluate("el => el === document.activeElement")
    box.fill("safari loops")
    box.press("Enter")
    page.wait_for_url("**/search/?q=safari+loops")
    results = page.locator(".search-results li")
    assert results.count() == 1
    assert desk.safari.key in results.first.inner_text()
    assert page.locator(".search-results mark").count() >= 1
    assert box.input_value() == "safari loops"  # the words stay in the box
    screenshot(page, "search-results-safari-loops")

    page.goto(f"{live_server.url}/search/?q=contoso")
    kinds = page.locator(".search-results .badge").all_inner_texts()
    assert kinds[0] == "Customer" and "Incident" in kinds and "Contact" in kinds
    screenshot(page, "search-results-contoso")

    page.get_by_role("link", name="All incidents matching “contoso” in the queue").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_label("Text").input_value() == "contoso"
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 2  # Contoso's two incidents, not Northwind's
    page.get_by_label("Text").fill("Contosso safari blank")  # a typo in the name, two words
    page.get_by_label("Text").press("Enter")
    page.wait_for_load_state("networkidle")
    page.wait_for_function("document.querySelectorAll('table.queue tbody tr').length === 1")
    assert "blank checkout page" in page.locator("table.queue tbody").inner_text()
    screenshot(page, "search-queue-filtered")

"""Browser: an agent writes an article with the live preview, finds it in the list, and
inserts it into a reply on an incident with the keyboard alone (issue 17)."""

import pytest
from playwright.sync_api import expect

from incidents import services as incident_services
from knowledge.models import Article
from knowledge.services import article_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BODY = """## Workaround

Safari's *Prevent cross-site tracking* drops the session cookie.

1. Open **Settings › Safari**
2. Turn off `Prevent cross-site tracking`
3. Sign in again

| Browser | Affected |
|:--|:-:|
| Safari 17 | yes |
| Chrome | no |
"""


def test_write_an_article_then_insert_it_into_a_reply(page, live_server, login, kb, screenshot):
    article_create(
        actor=kb.engineer,
        title="Restart the session store",
        body="Internal runbook: `systemctl restart sessions` on portal-web-1 and 2.",
        service=kb.portal,
    )
    article_create(actor=kb.engineer, title="Payout file rejected by the bank", service=kb.payments)
    incident = incident_services.incident_create(
        actor=kb.desk,
        title="Merchant loops back to the login page on Safari",
        description="Since this morning, every sign-in on Safari ends on the login page again.",
        service=kb.portal,
        impact="medium",
        urgency="high",
    )
    login(page, kb.desk)

    # Write it, watching the preview.
    page.goto(f"{live_server.url}/knowledge/new/")
    page.get_by_label("Title").fill("Safari login loops")
    page.get_by_label("Public (customers too)").check()
    page.get_by_label("Service").select_option(label="Merchant Portal")
    with page.expect_response(lambda r: "/knowledge/preview/" in r.url and "Safari 17" in r.text()):
        page.get_by_label("Article").fill(BODY)
    preview = page.locator("#kb-preview")
    expect(preview.locator("h3", has_text="Workaround")).to_be_visible()  # "##" under the page's h1, h2
    expect(preview.locator("td", has_text="Safari 17")).to_be_visible()
    screenshot(page, "knowledge-edit-preview")
    page.get_by_role("button", name="Create article").click()
    page.wait_for_load_state("networkidle")
    article = Article.objects.get(title="Safari login loops")
    assert page.url.endswith(f"/knowledge/{article.key}/")
    assert page.locator(".kb-body ol li").count() == 3
    screenshot(page, "knowledge-detail")

    # Edit it (the form holds version 1), then look at the history.
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Article").fill(
        BODY.replace("3. Sign in again", "3. Close every tab\n4. Sign in again")
    )
    page.get_by_label("What changed").fill("Close the tabs first")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".kb-body ol li").count() == 4
    page.get_by_role("link", name="History (2 revisions)").click()
    assert page.locator(".kb-diff .d-add", has_text="Close every tab").is_visible()
    screenshot(page, "knowledge-history")

    # The list finds it by a stem of a word in the text.
    page.goto(f"{live_server.url}/knowledge/?q=tracking")
    assert page.locator("table.list tbody tr").count() == 1
    page.goto(f"{live_server.url}/knowledge/")
    screenshot(page, "knowledge-list")

    # On the incident: keyboard only.
    page.goto(f"{live_server.url}/incidents/{incident.key}/")
    message = page.get_by_label("Message")
    message.fill("Hello, thanks for the report.")
    page.locator(".kb-picker summary").focus()
    with page.expect_response(lambda r: "/knowledge/picker/" in r.url):
        page.keyboard.press("Enter")  # opens; the picker lists this service's public articles
    search = page.get_by_label("Find an article")
    search.focus()
    with page.expect_response(lambda r: "/knowledge/picker/" in r.url and "q=safa" in r.url):
        page.keyboard.type("safa")
    results = page.locator("#kb-picker-results")
    assert "Safari login loops" in results.inner_text()
    assert "Restart the session store" not in results.inner_text()  # internal: not for a public reply
    screenshot(page, "knowledge-picker")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.insert") == "text"
    page.keyboard.press("Enter")
    value = message.input_value()
    assert value.startswith("Hello, thanks for the report.\n\nSafari login loops\n\n## Workaround")
    assert page.evaluate("document.activeElement.id") == "id_comment-body"
    assert not page.locator(".kb-picker details").evaluate("d => d.open")

    # An internal note: internal articles too, as a link to the staff page.
    page.get_by_label("Internal work note").check()
    page.locator(".kb-picker summary").click()
    with page.expect_response(lambda r: "/knowledge/picker/" in r.url and "q=session" in r.url):
        search.fill("session")
    page.get_by_role("button", name="Insert link to").first.click()
    assert "Restart the session store: http" in message.input_value()
    assert "/knowledge/KB-" in message.input_value()

"""The portal in a real Chromium, on a phone: a desk agent invites a contact, the contact
activates, logs a request with a screenshot (a public article is suggested as they type),
the agent answers, the contact replies, the incident is escalated and the portal shows the
fix forecast, the card moves and the forecast moves, the fix is done and the contact rates."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from boards import services as board_services
from boards.models import Card, ColumnCategory
from escalation.services import incident_escalate_to_development
from incidents.models import Incident, Status
from incidents.services import incident_comment, incident_transition
from knowledge.services import article_create
from org.services import contact_create
from portal.models import SatisfactionRating
from tests.boards.factories import BoardFactory, CardFactory, column_of, lane_of

from .conftest import PORTAL_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
PHONE = {"width": 390, "height": 844}


def _board_with_history(org):
    board = BoardFactory(name="Payments board", teams=[org.dev])
    done, lane, now = column_of(board, ColumnCategory.DONE), lane_of(board), timezone.now()
    Card.objects.bulk_create(
        CardFactory.build(
            board=board, column=done, lane=lane, key=f"HIST-{d}", created_at=now - timedelta(days=d + 3),
            started_at=now - timedelta(days=d + 1), done_at=now - timedelta(days=d),
        )
        for d in range(1, 29)
    )  # fmt: skip
    ready = column_of(board, ColumnCategory.READY)
    queue = [CardFactory(board=board, column=ready, lane=lane, key=f"Q-{i}", rank=i) for i in range(6)]
    return board, queue


def _fix_text(pg):
    return pg.locator(".p-forecast").inner_text()


def test_invite_activate_log_reply_forecast_rate(
    browser, page, live_server, login, screenshot, org, eager_tasks, tmp_path
):
    board, queue = _board_with_history(org)
    article_create(
        actor=org.desk,
        title="Invoices page blank after the upgrade",
        body="Clear the browser cache.",
        visibility="public",
    )
    dora = contact_create(customer=org.customer, name="Dora Diaz", email="dora@northwind.example")

    # A desk agent invites Dora from the customer's page.
    login(page, org.desk)
    page.goto(f"{live_server.url}/customers/{org.customer.pk}/")
    page.get_by_role("button", name="Invite to portal").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Invitation e-mailed to dora@northwind.example").is_visible()
    screenshot(page, "portal-staff-contact-invited")
    link = re.search(r"(/portal/activate/\S+?/)", mail.outbox[-1].body).group(1)

    # Dora, on her phone, follows the link and chooses a password.
    phone = browser.new_context(viewport=PHONE, timezone_id="Europe/Madrid", is_mobile=True, has_touch=True)
    pg = phone.new_page()
    pg.set_default_timeout(15000)
    pg.goto(live_server.url + link)
    screenshot(pg, "portal-phone-activate")
    pg.get_by_label("Choose a password").fill(PORTAL_PASSWORD)
    pg.get_by_label("The same password again").fill(PORTAL_PASSWORD)
    assert pg.get_by_label("Your time zone").input_value() == "Europe/Madrid"  # detected
    pg.get_by_role("button", name="Set password and sign in").click()
    pg.wait_for_url("**/portal/")

    # She logs a request with a screenshot; an article is suggested as she types.
    pg.get_by_role("link", name="New request").first.click()
    pg.get_by_label("Which service?").select_option(label="Payments API")
    pg.get_by_label("Summary").fill("Invoices page blank")
    pg.get_by_label("Details").fill("Since the upgrade the invoices page shows nothing.")
    pg.locator("#suggestions").get_by_role("link", name="Invoices page blank after the upgrade").wait_for()
    shot = tmp_path / "blank-invoices.png"
    shot.write_bytes(PNG)
    pg.get_by_label("Screenshots or files").set_input_files(str(shot))
    screenshot(pg, "portal-phone-new-request")
    pg.get_by_role("button", name="Send").click()
    pg.wait_for_url("**/portal/INC-*/")
    incident = Incident.objects.get(title="Invoices page blank")
    assert incident.requester == dora and incident.attachments.get().name == "blank-invoices.png"
    assert pg.get_by_role("link", name="blank-invoices.png").is_visible()

    # The agent answers and waits for her; she replies from the portal.
    incident_comment(incident=incident, actor=org.desk, body="Which browser do you use?", public=True)
    incident_transition(incident=incident, actor=org.desk, status=Status.ON_HOLD, reason="awaiting_customer")
    pg.reload()
    assert pg.get_by_text("Waiting for your reply").first.is_visible()
    pg.get_by_label("Your reply").fill("Safari 18 on my iPhone.")
    pg.get_by_role("button", name="Send reply").click()
    pg.wait_for_load_state("networkidle")
    assert pg.get_by_text("We are working on it").first.is_visible()
    incident.refresh_from_db()
    assert incident.status == Status.IN_PROGRESS

    # Escalated to development: the portal shows when the fix is likely done.
    incident_escalate_to_development(incident=incident, actor=org.manager, card=queue[-1], note="Safari bug")
    pg.reload()
    first = _fix_text(pg)
    assert "should be done by" in first
    screenshot(pg, "portal-phone-forecast")
    # The card is pulled to the top of Ready: the forecast moves earlier.
    board_services.card_move(card=queue[-1], column=queue[-1].column, position=0, actor=None)
    pg.reload()
    assert _fix_text(pg) != first

    # The fix is done, support resolves, and Dora rates it.
    board_services.card_move(card=queue[-1], column=column_of(board, ColumnCategory.DONE), actor=None)
    incident.refresh_from_db()
    incident_transition(
        incident=incident,
        actor=org.manager,
        status=Status.RESOLVED,
        resolution_code="fixed",
        note="Fixed in 4.2",
    )
    pg.reload()
    assert pg.locator(".p-forecast").count() == 0
    pg.get_by_text("5 — Excellent").click()
    pg.get_by_label("Anything to add? (optional)").fill("Fast and friendly.")
    pg.get_by_role("button", name="Send rating").click()
    pg.wait_for_load_state("networkidle")
    assert pg.get_by_text("You rated this 5 out of 5").is_visible()
    assert SatisfactionRating.objects.get(incident=incident).comment == "Fast and friendly."
    screenshot(pg, "portal-phone-rated")
    pg.goto(f"{live_server.url}/portal/?state=all")
    screenshot(pg, "portal-phone-list")
    # Staff pages stay closed to her.
    assert pg.goto(f"{live_server.url}/incidents/{incident.key}/").status == 403
    phone.close()

    # The same pages at desktop width, and the manager's satisfaction section.
    desk_ctx = browser.new_context(viewport={"width": 1400, "height": 900}, timezone_id="Europe/Madrid")
    dpg = desk_ctx.new_page()
    dpg.goto(f"{live_server.url}/portal/login/")
    dpg.get_by_label("E-mail address").fill("dora@northwind.example")
    dpg.get_by_label("Password").fill(PORTAL_PASSWORD)
    dpg.get_by_role("button", name="Sign in").click()
    dpg.wait_for_url("**/portal/")
    dpg.goto(f"{live_server.url}/portal/{incident.key}/")
    screenshot(dpg, "portal-desktop-detail")
    desk_ctx.close()
    page.context.clear_cookies()
    login(page, org.manager)
    page.goto(f"{live_server.url}/dashboards/sla/")
    page.locator("#satisfaction").scroll_into_view_if_needed()
    assert "Fast and friendly." in page.locator("#satisfaction").inner_text()
    from tests.conftest import ARTIFACTS

    page.locator("#satisfaction").screenshot(path=str(ARTIFACTS / "portal-dashboard-satisfaction.png"))

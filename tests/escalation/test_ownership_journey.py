"""Support keeps the case, in a real Chromium (SPEC §7): a tier-2 engineer logs an incident,
escalates it to development and, on a second visit while development works the card,
replies to the customer, adds a note, changes the hold, links the cause and resolves it.
The same through the API for another incident."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.roles import Role
from boards.models import Card, CardType
from escalation.models import Escalation
from incidents.models import Comment, HoldReason, Incident, Status
from tests.boards.factories import BoardFactory, CardFactory
from tests.factories import DevTeamFactory, ServiceFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    from tests.sla.factories import CalendarFactory, PolicyFactory

    desk = UserFactory(username="sam", first_name="Sam", roles=[Role.SERVICE_DESK])
    engineer = UserFactory(username="tariq", first_name="Tariq", roles=[Role.SUPPORT_ENGINEER])
    developer = UserFactory(username="devon", first_name="Devon", roles=[Role.DEVELOPER])
    desk_team = TeamFactory(name="Service Desk", tier=1, members=[desk])
    support = TeamFactory(name="Application Support", tier=2, members=[engineer])
    dev = DevTeamFactory(name="Payments Dev", members=[developer])
    dev.default_estimates = {"P1": 5, "P2": 3, "P3": 2, "P4": 1, "P5": 1}
    dev.save()
    service = ServiceFactory(name="Payments API", team=dev, support_team=desk_team)
    calendar = CalendarFactory(name="24x7", always_open=True, timezone="UTC")
    for priority in ("P1", "P2", "P3", "P4", "P5"):
        PolicyFactory(
            name=priority, priority=priority, response_minutes=60, resolution_minutes=960, calendar=calendar
        )
    board = BoardFactory(name="Payments board", teams=[dev], key_prefix="DEV")
    cause = CardFactory(board=board, title="Release 4.2 acquirer routing change")
    return {"engineer": engineer, "support": support, "service": service, "board": board, "cause": cause}


def test_tier_two_keeps_the_case_while_development_works_it(page, live_server, login, screenshot, world):
    engineer, support = world["engineer"], world["support"]

    # 1. A tier-2 engineer logs what they found; it starts in their own group.
    login(page, engineer)
    page.goto(f"{live_server.url}/incidents/new/")
    page.get_by_label("Title").fill("Refunds to Maestro cards fail with 'unknown acquirer'")
    page.get_by_label("Service").select_option(label="Payments API")
    page.get_by_label("Impact").select_option("medium")
    page.get_by_label("Urgency").select_option("medium")
    page.get_by_role("button", name="Log incident").click()
    page.wait_for_url("**/incidents/INC-*/")
    incident = Incident.objects.get(title__startswith="Refunds to Maestro")
    assert incident.team == support and incident.tier == 2
    page.get_by_role("button", name="Take it").click()
    page.wait_for_load_state("networkidle")

    # 2. Escalate to development.
    page.get_by_role("link", name="Escalate to development…").click()
    page.wait_for_url(f"**/incidents/{incident.key}/escalate-to-development/")
    page.get_by_label("Note").fill("AcquirerRouter.resolve() returns None for BIN 6759.")
    page.get_by_role("button", name="Confirm escalation").click()
    page.wait_for_url(f"**/incidents/{incident.key}/")
    defect = Card.objects.get(type=CardType.PRODUCTION_DEFECT)
    incident.refresh_from_db()
    assert incident.status == Status.ON_HOLD and incident.tier == 3
    assert incident.team == support and incident.assignee == engineer
    where = page.get_by_test_id("work-with-development")
    assert defect.key in where.inner_text() and "Payments Dev" in where.inner_text()
    assert "Owner: Application Support (Tier 2)" in page.locator(".inc-head").inner_text()
    actions = page.locator("#act-h").locator("..")
    for label in ("Resume work", "Change the hold", "Resolve", "Link cause", "Assign", "Log time"):
        assert actions.get_by_text(label, exact=True).first.is_visible(), label
    assert actions.get_by_role("button", name="Start work").count() == 0
    screenshot(page, "ownership-1-after-escalation")

    # 3. A second visit, development still on the card: every action is support's.
    page.context.clear_cookies()
    login(page, engineer)
    page.goto(f"{live_server.url}/incidents/{incident.key}/")
    page.get_by_label("Message").fill("We found the cause; development is fixing it.")
    page.get_by_label("Public reply to the customer").check()
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state("networkidle")
    page.get_by_label("Message").fill(f"Dev has {defect.key}; asked the merchant for a test refund id.")
    page.get_by_label("Internal work note").check()
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state("networkidle")
    assert Comment.objects.filter(incident=incident, public=True, is_system=False).count() == 1
    assert Comment.objects.filter(incident=incident, public=False, is_system=False).count() == 1

    page.locator("#act-hold summary").click()
    page.get_by_label("Waiting on").select_option("awaiting_customer")
    page.locator("#act-hold").get_by_role("button", name="Change the hold").click()
    page.wait_for_load_state("networkidle")
    incident.refresh_from_db()
    assert incident.status == Status.ON_HOLD and incident.hold_reason == HoldReason.AWAITING_CUSTOMER

    page.locator("#act-link summary").click()
    page.get_by_label("Caused by card (key)").fill(world["cause"].key)
    page.locator("#act-link").get_by_role("button", name="Link cause").click()
    page.wait_for_load_state("networkidle")
    incident.refresh_from_db()
    assert incident.caused_by_card == world["cause"]
    screenshot(page, "ownership-2-second-visit")

    # Resolving without a note keeps the code chosen and says what is missing, next to it.
    page.locator("#act-resolve summary").click()
    page.get_by_label("Resolution code").select_option("workaround")
    page.locator("#act-resolve").get_by_role("button", name="Resolve").click()
    assert page.locator("#act-resolve .error").first.is_visible()
    assert page.get_by_label("Resolution code").input_value() == "workaround"
    page.get_by_label("Resolution note").fill("Refunds re-routed through the backup acquirer.")
    page.locator("#act-resolve").get_by_role("button", name="Resolve").click()
    page.wait_for_load_state("networkidle")
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED and incident.team == support
    assert Escalation.objects.get(incident=incident).returned_at is None  # the card is still worked
    screenshot(page, "ownership-3-resolved")


def test_tier_two_keeps_the_case_through_the_api(world):
    engineer, support = world["engineer"], world["support"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=engineer).key}")
    service = world["service"]
    created = client.post(
        "/api/v1/incidents/",
        {"title": "Payout file empty", "service": service.pk, "impact": "high", "urgency": "medium"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    base = f"/api/v1/incidents/{created.json()['id']}"
    assert created.json()["team"] == support.pk
    assert client.post(f"{base}/take/").status_code == 200
    escalated = client.post(f"{base}/escalate-to-development/", {"note": "Trace"}, format="json")
    assert escalated.status_code == 201, escalated.json()
    assert escalated.json()["card"]["key"].startswith("DEV-")

    # the second visit: every action is the support owner's
    reply = client.post(f"{base}/comments/", {"body": "Fix under way.", "public": True}, format="json")
    note = client.post(f"{base}/comments/", {"body": "Dev is on it.", "public": False}, format="json")
    assert reply.status_code == note.status_code == 201
    hold = client.post(
        f"{base}/transition/", {"status": "on_hold", "reason": "awaiting_vendor"}, format="json"
    )
    assert hold.status_code == 200 and hold.json()["hold_reason"] == "awaiting_vendor"
    linked = client.post(f"{base}/link-cause/", {"card": world["cause"].pk}, format="json")
    assert linked.status_code == 200, linked.json()
    resolved = client.post(
        f"{base}/transition/",
        {"status": "resolved", "resolution_code": "fixed", "note": "Vendor re-sent the file."},
        format="json",
    )
    assert resolved.status_code == 200, resolved.json()
    body = resolved.json()
    assert body["status"] == "resolved" and body["team"] == support.pk and body["assignee"] == engineer.pk

"""A day at the desk in a real Chromium: log, reply, escalate; tier 2 resolves."""

import pytest

from incidents.models import Comment, Incident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_desk_logs_replies_escalates_and_tier_two_resolves(
    page, live_server, login, screenshot, org, log_incident
):
    # Some other work in the queue, so the queue screenshot shows a real queue.
    for title, impact, urgency in [
        ("Payout file missing for 3 merchants", "medium", "high"),
        ("Portal login slow", "low", "medium"),
    ]:
        log_incident(title=title, impact=impact, urgency=urgency)

    login(page, org.desk)
    page.goto(f"{live_server.url}/incidents/new/")
    page.get_by_label("Title").fill("")
    page.get_by_label("Description").fill("Every card payment returns 502 since 09:12.")
    page.get_by_role("button", name="Log incident").click()
    # Typed input is kept and the error sits next to the field.
    assert page.get_by_label("Description").input_value() == "Every card payment returns 502 since 09:12."
    assert page.locator(".field.has-error").count() >= 2
    screenshot(page, "incidents-create-errors")

    page.get_by_label("Title").fill("Checkout returns 502 for all merchants")
    page.get_by_label("Service").select_option(label="Payments API")
    page.get_by_label("Impact").select_option("high")
    page.get_by_label("Urgency").select_option("high")
    page.get_by_label("Customer").select_option(label="Northwind")
    page.get_by_role("button", name="Log incident").click()
    page.wait_for_url("**/incidents/INC-*/")
    incident = Incident.objects.get(title="Checkout returns 502 for all merchants")
    assert incident.priority == "P1" and incident.reporter == org.desk
    assert page.get_by_text("P1 – critical").first.is_visible()

    # Take it, then reply publicly.
    page.get_by_role("button", name="Take it").click()
    page.wait_for_load_state("networkidle")
    page.get_by_label("Message").fill("We are investigating and will update you within the hour.")
    page.get_by_label("Public reply to the customer").check()
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state("networkidle")
    assert Comment.objects.filter(incident=incident, public=True).count() == 1
    assert page.locator(".timeline li.public").count() == 1

    # Escalate to tier 2: without a note first (error kept next to the field), then with one.
    page.locator("#act-escalate summary").click()
    page.get_by_label("To team").select_option(label="Application Support (tier 2)")
    page.get_by_role("button", name="Escalate / hand over").click()
    assert page.locator("#act-escalate .error").first.is_visible()
    assert page.get_by_label("To team").input_value() == str(org.t2.pk)
    page.get_by_label("Hand-over note").fill("Gateway returns 502; restarts did not help. Logs attached.")
    page.get_by_role("button", name="Escalate / hand over").click()
    page.wait_for_load_state("networkidle")
    incident.refresh_from_db()
    assert incident.team == org.t2 and incident.tier == 2
    assert page.get_by_text("Escalated").first.is_visible()
    screenshot(page, "incidents-detail-escalated")

    # The queue shows it with its SLA badge.
    page.goto(f"{live_server.url}/incidents/?tab=all")
    assert page.get_by_role("link", name=incident.key).is_visible()
    screenshot(page, "incidents-queue")

    # Tier 2 takes over and resolves.
    page.context.clear_cookies()
    login(page, org.engineer)
    page.goto(f"{live_server.url}/incidents/?tab=unassigned")
    page.get_by_role("link", name=incident.key).click()
    page.get_by_role("button", name="Take it").click()
    page.wait_for_load_state("networkidle")
    page.locator("#act-resolve summary").click()
    page.get_by_label("Resolution code").select_option("fixed")
    page.get_by_label("Resolution note").fill("Rotated the expired gateway certificate.")
    page.get_by_role("button", name="Resolve").click()
    page.wait_for_load_state("networkidle")
    incident.refresh_from_db()
    assert incident.status == "resolved" and incident.assignee == org.engineer
    assert page.get_by_text("Rotated the expired gateway certificate.").first.is_visible()
    screenshot(page, "incidents-detail-resolved")


def test_demo_queue_filters_with_htmx_and_swarm_page(page, live_server, login, screenshot, password):
    from incidents import demo as incidents_demo
    from tracker import demo

    ctx = demo.seed_organisation(lambda m: None)
    incidents_demo.seed(ctx, lambda m: None)
    ctx.users["tariq"].set_password(password)
    ctx.users["tariq"].save()
    login(page, ctx.users["tariq"])
    page.goto(f"{live_server.url}/incidents/?tab=all")
    rows_before = page.locator("table.queue tbody tr").count()
    assert rows_before > 10
    assert page.locator("table.queue .sla").count() > 5
    screenshot(page, "incidents-queue-demo")
    # Filtering swaps the results in place (htmx) and keeps the URL shareable.
    page.get_by_label("Priority").select_option("P1")
    page.wait_for_function("() => location.search.includes('priority=P1')")
    page.wait_for_load_state("networkidle")
    keys = page.locator("table.queue tbody td.key a").all_inner_texts()
    assert keys and all(Incident.objects.get(key=k).priority == "P1" for k in keys), keys
    # A swarm incident: tariq joins from the page.
    swarm = (
        Incident.objects.filter(service__support_model="swarm", status="new")
        .exclude(participants=ctx.users["tariq"])
        .first()
    )
    page.goto(f"{live_server.url}/incidents/{swarm.key}/")
    page.get_by_role("button", name="Join the swarm").click()
    page.wait_for_load_state("networkidle")
    assert swarm.participants.filter(pk=ctx.users["tariq"].pk).exists()
    major = Incident.objects.get(title=incidents_demo.FIRST_TITLE)
    page.goto(f"{live_server.url}/incidents/{major.key}/")
    assert page.get_by_text("Major incident").first.is_visible()
    screenshot(page, "incidents-detail-demo-major")

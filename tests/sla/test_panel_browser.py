"""The incident page's SLA panel in headless Chromium: a paused clock and a breached one,
in the viewer's zone, screenshotted for a person to look at."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.services import incident_transition
from sla.services import sla_sweep_tick

from .scenarios import scene, tier2_incident


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sla_panel_of_a_paused_and_a_breached_incident(page, live_server, login, screenshot):
    s = scene(escalate=False)
    s.engineer.time_zone = "Europe/Paris"
    s.engineer.save(update_fields=["time_zone"])
    now = timezone.now()
    paused = tier2_incident(s, logged_at=now - timedelta(minutes=70))
    incident_transition(
        incident=paused,
        actor=s.engineer,
        status="on_hold",
        reason="awaiting_customer",
        at=now - timedelta(minutes=25),
    )
    breached = tier2_incident(s, logged_at=now - timedelta(minutes=300))
    sla_sweep_tick(now=now, dispatch=False)
    login(page, s.engineer)

    page.goto(f"{live_server.url}/incidents/{paused.key}/")
    sla = page.locator("section.sla-panel")
    assert sla.get_by_text("Policy P2 standard").is_visible()
    assert sla.get_by_text("awaiting customer", exact=False).is_visible()
    assert "CET" in sla.inner_text() and "business time left" in sla.inner_text()
    sla.scroll_into_view_if_needed()
    screenshot(page, "sla-panel-paused")

    page.goto(f"{live_server.url}/incidents/{breached.key}/")
    sla = page.locator("section.sla-panel")
    text = sla.inner_text()
    assert "Breached at" in text and "CET" in text and "business time over" in text
    screenshot(page, "sla-panel-breached")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_timeline_says_why_a_stale_breach_was_not_acted_on(page, live_server, login, screenshot):
    from sla.models import SLAEvent
    from sla.services import sla_event_handle

    from .scenarios import back_from_development

    s = scene(major=True)
    incident = back_from_development(s, days_ago=4)
    sla_sweep_tick(dispatch=False)
    event = SLAEvent.objects.get(timer__incident=incident, timer__metric="resolution", kind="breach")
    sla_event_handle(event_id=event.pk)
    login(page, s.engineer)
    page.goto(f"{live_server.url}/incidents/{incident.key}/")
    timeline = page.locator("ol.timeline")
    assert timeline.get_by_text("Resolution SLA breach: automatic action skipped.").is_visible()
    assert "detected late" in timeline.inner_text() and "came back from development" in timeline.inner_text()
    page.get_by_text("automatic action skipped").scroll_into_view_if_needed()
    screenshot(page, "sla-breach-action-skipped")

"""The SLA panel of the incident page says what each clock is doing and why: the policy
and calendar, a paused clock's remaining time, since when and what it waits on, a clock
that keeps running on hold, when a clock was met or breached; every time in the viewer's
zone with the zone shown."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.services import incident_transition
from sla.services import sla_sweep_tick

from .scenarios import scene, tier2_incident

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def paris(instant):
    local = instant.astimezone(PARIS)
    return f"{local.day} {local:%b %H:%M} {local.tzname()}"


def panel(client, user, incident):
    user.time_zone = "Europe/Paris"
    user.save(update_fields=["time_zone"])
    client.force_login(user)
    html = client.get(reverse("incidents:detail", args=[incident.key])).content.decode()
    section = html[html.index('<section class="card sla-panel"') :]
    section = section[: section.index("</section>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", section))


def clock(text, metric):
    """The text of one clock's entry (the panel lists Response then Resolution)."""
    start = text.index(f"{metric} ·")
    other = text.find(" Resolution ·", start + 1) if metric == "Response" else -1
    return text[start : other if other > 0 else None]


def test_paused_clock_shows_remaining_time_since_when_and_why(client):
    s = scene(escalate=False)
    now = timezone.now()
    incident = tier2_incident(s, logged_at=now - timedelta(minutes=60))
    held_at = now - timedelta(minutes=30)
    incident_transition(
        incident=incident, actor=s.engineer, status="on_hold", reason="awaiting_customer", at=held_at
    )
    text = panel(client, s.engineer, incident)
    assert "Policy P2 standard · calendar Around the clock (24×7, UTC)" in text
    resolution = clock(text, "Resolution")
    assert f"Paused since {paris(held_at)}: awaiting customer." in resolution
    assert "3 h 30 min business time left; no due instant until it resumes." in resolution
    assert "target 4 h 0 min business time" in resolution
    response = clock(text, "Response")
    assert f"Met at {paris(incident.created_at + timedelta(minutes=15))}" in response


def test_clock_running_on_hold_awaiting_development_says_so(client):
    s = scene(escalate=False)
    incident = tier2_incident(s, logged_at=timezone.now() - timedelta(minutes=60))
    incident_transition(incident=incident, actor=s.engineer, status="on_hold", reason="awaiting_development")
    resolution = clock(panel(client, s.engineer, incident), "Resolution")
    due = incident.created_at + timedelta(minutes=240)
    assert f"Due {paris(due)}: 3 h 0 min business time left." in resolution or (
        f"Due {paris(due)}: 2 h 59 min business time left." in resolution
    )
    assert (
        "Still running while on hold (awaiting development): P2 standard does not pause the clock for it."
        in (resolution)
    )


def test_a_pause_for_a_development_card_names_the_card(client):
    from escalation.services import incident_escalate_to_development

    s = scene(escalate=False)
    s.policy.pause_on = ["awaiting_customer", "awaiting_vendor", "awaiting_development"]
    s.policy.save()
    incident = tier2_incident(s, logged_at=timezone.now() - timedelta(minutes=60))
    result = incident_escalate_to_development(incident=incident, actor=s.engineer, note="Rounding bug")
    resolution = clock(panel(client, s.engineer, incident), "Resolution")
    assert f": awaiting development ({result.card.key})." in resolution


def test_breached_and_met_clocks_say_when(client):
    s = scene(escalate=False)
    logged = timezone.now() - timedelta(minutes=300)
    incident = tier2_incident(s, logged_at=logged)
    sla_sweep_tick(dispatch=False)
    text = panel(client, s.engineer, incident)
    resolution = clock(text, "Resolution")
    assert f"Breached at {paris(logged + timedelta(minutes=240))}." in resolution
    assert (
        "Still counting: 1 h 0 min business time over." in resolution
        or "Still counting: 59 min" in resolution
    )
    # the timeline shows the breach instant in the viewer's zone too
    client.force_login(s.engineer)
    html = client.get(reverse("incidents:detail", args=[incident.key])).content.decode()
    assert "Resolution SLA breached</strong> at <time" in html
    assert paris(logged + timedelta(minutes=240)).split(" ", 2)[2] in html


def test_a_resolved_incident_shows_when_its_clock_was_met(client):
    s = scene(escalate=False)
    now = timezone.now()
    incident = tier2_incident(s, logged_at=now - timedelta(minutes=60))
    resolved_at = now - timedelta(minutes=5)
    incident_transition(
        incident=incident,
        actor=s.engineer,
        status="resolved",
        resolution_code="fixed",
        note="Patched",
        at=resolved_at,
    )
    resolution = clock(panel(client, s.engineer, incident), "Resolution")
    assert (
        f"Met at {paris(resolved_at)} (due {paris(incident.created_at + timedelta(minutes=240))})."
        in resolution
    )

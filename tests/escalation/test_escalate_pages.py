"""The escalation page: impact preview, confirmation, errors, permissions — and the API."""

import pytest
from django.urls import reverse

from boards.models import Card
from escalation.models import Escalation
from incidents.models import Status

pytestmark = pytest.mark.django_db


def test_page_shows_impact_preview_and_confirming_escalates(
    client, engineer_user, tier2_incident, board, active_sprint
):
    incident = tier2_incident()
    client.force_login(engineer_user)
    page = client.get(reverse("escalation:escalate", args=[incident.key]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Impact preview" in html and "support reserve" in html and "Sprint 7" in html
    assert not Card.objects.filter(type="production_defect").exists()

    preview = client.get(
        reverse("escalation:preview", args=[incident.key]),
        {"team": incident.service.team_id, "estimate": "40"},
    )
    assert preview.status_code == 200
    assert 'data-testid="newly-at-risk"' in preview.content.decode()

    response = client.post(
        reverse("escalation:escalate", args=[incident.key]),
        {"team": incident.service.team_id, "estimate": "3", "note": "Logs attached"},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.ON_HOLD
    assert Escalation.objects.get().note == "Logs attached"


def test_page_errors_keep_input(client, engineer_user, tier2_incident, board):
    incident = tier2_incident()
    client.force_login(engineer_user)
    response = client.post(
        reverse("escalation:escalate", args=[incident.key]),
        {"team": incident.service.team_id, "estimate": "-4", "note": "typed note"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "typed note" in html and 'class="error"' in html
    assert not Escalation.objects.exists()


@pytest.mark.parametrize(
    "role, member, allowed",
    [
        ("service_desk", True, False),  # the desk escalates to tier 2, not to development
        ("support_engineer", True, True),
        ("support_engineer", False, False),  # not the incident's support owner
        ("developer", True, True),
        ("developer", False, False),
        ("product_owner", True, False),
        ("manager", False, True),
    ],
)
def test_permissions_match_in_browser_and_api(
    client, api, make_user, log_incident, board, role, member, allowed
):
    """Escalating to development needs the rights over the incident that escalating it needs
    (its support owner, or a manager), held by tier 2/3: the same predicate for page and API."""
    from escalation.permissions import can_escalate_to_development
    from incidents.permissions import can_escalate

    user = make_user(role)
    incident = log_incident()
    if member:
        incident.team.members.add(user)
    assert can_escalate_to_development(user, incident) == (allowed and can_escalate(user, incident))
    client.force_login(user)
    page = client.get(reverse("escalation:escalate", args=[incident.key]))
    assert page.status_code == (200 if allowed else 403)
    preview = api.as_user(user).get(f"/api/v1/incidents/{incident.pk}/escalate-to-development/")
    assert preview.status_code == (200 if allowed else 403), preview.content
    response = api.as_user(user).post(f"/api/v1/incidents/{incident.pk}/escalate-to-development/", {})
    assert response.status_code == (201 if allowed else 403), response.content
    detail = client.get(reverse("incidents:detail", args=[incident.key])).content.decode()
    assert ("Escalate to development…" in detail) == (allowed and response.status_code != 201)


def test_api_contract_shape_and_errors(api, engineer_user, tier2_incident, board, active_sprint):
    incident = tier2_incident()
    client = api.as_user(engineer_user)
    preview = client.get(f"/api/v1/incidents/{incident.pk}/escalate-to-development/?estimate=2")
    assert preview.status_code == 200 and preview.json()["preview"] is True
    assert not Card.objects.filter(type="production_defect").exists()

    response = client.post(f"/api/v1/incidents/{incident.pk}/escalate-to-development/", {"estimate": 2})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) >= {"card", "sprint_impact"}
    assert body["card"]["key"].startswith("DEV-") and body["card"]["incidents"] == [incident.pk]
    assert body["sprint_impact"]["sprint"]["id"] == active_sprint.pk
    assert body == {**body, "placement": "expedite"}

    again = client.post(f"/api/v1/incidents/{incident.pk}/escalate-to-development/", {})
    assert again.status_code == 409 and again.json()["code"] == "already_escalated"

    other = tier2_incident()
    bad = client.post(
        f"/api/v1/incidents/{other.pk}/escalate-to-development/",
        {"estimate": "lots", "into_sprint": "maybe", "card": 999999},
    )
    assert bad.status_code == 400
    assert {"estimate", "into_sprint", "card"} <= set(bad.json())
    assert client.post("/api/v1/incidents/999999/escalate-to-development/", {}).status_code == 404
    garbage = client.post(
        f"/api/v1/incidents/{other.pk}/escalate-to-development/", "[1,2", content_type="application/json"
    )
    assert garbage.status_code == 400


def test_incident_page_shows_sla_events_and_development_panel(client, engineer_user, tier2_incident, board):
    from incidents.models import IncidentEvent
    from sla.services import sla_sweep_tick

    incident = tier2_incident()
    IncidentEvent.objects.create(
        incident=incident,
        at=incident.created_at,
        event="sla_breach",
        field="resolution",
        new="2026-01-01T00:00",
    )
    sla_sweep_tick()
    client.force_login(engineer_user)
    html = client.get(reverse("incidents:detail", args=[incident.key])).content.decode()
    assert "Resolution SLA breached" in html
    assert "Escalate to development" in html and "Raise a change request" in html

"""Role × action: the API and the browser allow and refuse exactly the same things,
because both ask the predicates in incidents.permissions."""

import pytest
from django.urls import reverse

from incidents import services

pytestmark = pytest.mark.django_db

ROLES = ["desk", "engineer", "developer", "po", "manager", "admin", "norole"]
WORKERS = {"desk", "engineer", "developer", "manager", "admin"}
MANAGERS = {"manager", "admin"}
READERS = set(ROLES) - {"norole"}

# action -> roles allowed (every user is a member of the incident's team, so only the role decides)
MATRIX = {
    "read": READERS,
    "create": WORKERS,
    "comment": WORKERS,
    "time": WORKERS,
    "transition": WORKERS,
    "take": WORKERS,
    "assign": WORKERS,
    "escalate": WORKERS,
    "merge": WORKERS,
    "priority": MANAGERS,
    "major": MANAGERS,
    "join": WORKERS,
}


@pytest.fixture
def world(org, log_incident):
    everyone = [getattr(org, r) for r in ROLES]
    org.t1.members.add(*everyone)
    incident = log_incident()
    other = log_incident(title="Second report of the same outage")
    swarm = log_incident(service=org.swarm, title="Audit export empty")
    return org, incident, other, swarm


def _api_call(api, org, action, incident, other, swarm):
    base = f"/api/v1/incidents/{incident.pk}/"
    calls = {
        "read": ("get", base, None),
        "create": (
            "post",
            "/api/v1/incidents/",
            {"title": "t", "service": org.service.pk, "impact": "low", "urgency": "low", "type": "incident"},
        ),
        "comment": ("post", base + "comments/", {"body": "hi", "public": True}),
        "time": ("post", base + "time/", {"minutes": 5}),
        "transition": ("post", base + "transition/", {"status": "in_progress"}),
        "take": ("post", base + "take/", {}),
        "assign": ("post", base + "assign/", {"assignee": org.desk.pk}),
        "escalate": ("post", base + "escalate/", {"team": org.t2.pk, "note": "needs tier 2"}),
        "merge": ("post", f"/api/v1/incidents/{other.pk}/merge/", {"parent": incident.key}),
        "priority": ("post", base + "priority/", {"priority": "P1", "reason": "VIP"}),
        "major": ("post", base + "declare-major/", {"note": "big"}),
        "join": ("post", f"/api/v1/incidents/{swarm.pk}/swarm/join/", {}),
    }
    method, url, body = calls[action]
    return getattr(api, method)(url, body, format="json") if body is not None else api.get(url)


def _browser_call(client, org, action, incident, other, swarm):
    def act(inc, name, data):
        return client.post(reverse("incidents:action", kwargs={"key": inc.key, "name": name}), data)

    if action == "read":
        return client.get(reverse("incidents:detail", kwargs={"key": incident.key}))
    if action == "create":
        return client.post(
            reverse("incidents:create"),
            {"title": "t", "service": org.service.pk, "impact": "low", "urgency": "low", "type": "incident"},
        )
    data = {
        "comment": (incident, {"comment-body": "hi", "comment-visibility": "public"}),
        "time": (incident, {"time-minutes": "5"}),
        "transition": (incident, {}),
        "take": (incident, {}),
        "assign": (incident, {"assign-assignee": org.desk.pk}),
        "escalate": (incident, {"escalate-team": org.t2.pk, "escalate-note": "needs tier 2"}),
        "merge": (other, {"merge-parent": incident.key}),
        "priority": (incident, {"priority-priority": "P1", "priority-reason": "VIP"}),
        "major": (incident, {"major-note": "big"}),
        "join": (swarm, {}),
    }[action]
    name = {"transition": "start"}.get(action, action)
    return act(data[0], name, data[1])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(MATRIX))
def test_api_permission_matrix(api, world, role, action):
    org, incident, other, swarm = world
    api.as_user(getattr(org, role))
    response = _api_call(api, org, action, incident, other, swarm)
    if role in MATRIX[action]:
        assert response.status_code in (200, 201), response.content
    else:
        assert response.status_code == 403, response.content


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(MATRIX))
def test_browser_permission_matrix(client, world, role, action):
    org, incident, other, swarm = world
    client.force_login(getattr(org, role))
    response = _browser_call(client, org, action, incident, other, swarm)
    if role in MATRIX[action]:
        assert response.status_code in (200, 302), response.content[:2000]
        if action != "read":
            assert response.status_code == 302, response.content[:3000]
    else:
        assert response.status_code == 403


def test_outsiders_cannot_work_another_teams_incident(api, client, org, log_incident):
    """A service-desk user not in tier 2 may read and comment, but not transition or escalate."""
    incident = log_incident()
    incident = services.incident_escalate(incident=incident, actor=org.desk, team=org.t2, note="to tier 2")
    api.as_user(org.desk)
    assert api.get(f"/api/v1/incidents/{incident.pk}/").status_code == 200
    assert (
        api.post(f"/api/v1/incidents/{incident.pk}/transition/", {"status": "in_progress"}).status_code == 403
    )
    assert (
        api.post(
            f"/api/v1/incidents/{incident.pk}/escalate/", {"team": org.t1.pk, "note": "back"}
        ).status_code
        == 403
    )
    assert (
        api.post(f"/api/v1/incidents/{incident.pk}/comments/", {"body": "x", "public": False}).status_code
        == 201
    )
    client.force_login(org.desk)
    url = reverse("incidents:action", kwargs={"key": incident.key, "name": "resolve"})
    assert client.post(url, {"resolve-resolution_code": "fixed", "resolve-note": "x"}).status_code == 403
    page = client.get(reverse("incidents:detail", kwargs={"key": incident.key})).content.decode()
    assert "Resolve" not in page and "Send" in page
    # The assignee may act even after the incident moved on.
    api.as_user(org.engineer)
    assert api.post(f"/api/v1/incidents/{incident.pk}/take/").status_code == 200

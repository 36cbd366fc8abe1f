"""Change requests through the API and the browser: decisions, errors, permissions, queries."""

import pytest
from django.urls import reverse

from changes.models import ChangeRequest, ChangeStatus
from changes.services import change_request_create
from sprints.models import SprintState

pytestmark = pytest.mark.django_db


def test_api_create_and_accept_returns_card(api, engineer_user, po_user, board, make_incident):
    incident = make_incident()
    response = api.as_user(engineer_user).post(
        "/api/v1/change-requests/",
        {
            "title": "Idempotent retries",
            "description": "d",
            "source": "support",
            "kind": "normal",
            "justification": "j",
            "incidents": [incident.pk],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {
        "id",
        "key",
        "title",
        "description",
        "source",
        "kind",
        "justification",
        "status",
        "incidents",
        "card",
    } <= set(body)
    assert body["status"] == "submitted" and body["incidents"] == [incident.pk] and body["card"] is None

    triage = api.as_user(po_user).post(
        f"/api/v1/change-requests/{body['id']}/triage/", {"decision": "accept"}
    )
    assert triage.status_code == 200, triage.json()
    assert triage.json()["status"] == "accepted"
    assert triage.json()["card"]


def test_api_validation_errors_are_field_messages(api, engineer_user):
    response = api.as_user(engineer_user).post(
        "/api/v1/change-requests/", {"title": "", "kind": "urgent", "incidents": [999999]}
    )
    assert response.status_code == 400
    assert {"title", "kind", "incidents"} <= set(response.json())
    malformed = api.post("/api/v1/change-requests/", "{oops", content_type="application/json")
    assert malformed.status_code == 400


def test_api_reject_needs_reason_and_decisions_are_final(api, engineer_user, po_user, dev_team):
    change = change_request_create(title="Dark mode", actor=engineer_user, team=dev_team)
    url = f"/api/v1/change-requests/{change.pk}/triage/"
    client = api.as_user(po_user)
    assert client.post(url, {"decision": "reject"}).json() == {
        "reason": ["Say why: the requester sees this reason."]
    }
    assert client.post(url, {"decision": "reject", "reason": "Out of scope"}).status_code == 200
    conflict = client.post(url, {"decision": "accept"})
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "transition_not_allowed"


def test_api_schedule_into_sprint(api, engineer_user, po_user, dev_team, make_sprint):
    sprint = make_sprint(state=SprintState.PLANNING)
    change = change_request_create(title="Exports", actor=engineer_user, team=dev_team)
    response = api.as_user(po_user).post(
        f"/api/v1/change-requests/{change.pk}/triage/", {"decision": "schedule", "sprint": sprint.pk}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "scheduled"


@pytest.mark.parametrize(
    "role, can_submit, can_triage",
    [
        ("service_desk", True, False),
        ("support_engineer", True, False),
        ("developer", True, False),
        ("product_owner", True, True),
        ("manager", True, True),
        (None, False, False),
    ],
)
def test_permission_matrix_api_and_browser(
    api, client, make_user, dev_team, board, role, can_submit, can_triage
):
    user = make_user(*([role] if role else []))
    created = api.as_user(user).post(
        "/api/v1/change-requests/", {"title": "X", "source": "sales", "kind": "normal", "team": dev_team.pk}
    )
    assert (created.status_code == 201) == can_submit
    change = change_request_create(title="Y", actor=user, team=dev_team)
    decided = api.post(f"/api/v1/change-requests/{change.pk}/triage/", {"decision": "accept"})
    assert (decided.status_code == 200) == can_triage
    if not can_triage:
        assert decided.status_code == 403

    client.force_login(user)
    page = client.post(
        reverse("changes:create"), {"title": "Z", "kind": "normal", "source": "support", "team": dev_team.pk}
    )
    assert (page.status_code == 302) == can_submit
    other = change_request_create(title="W", actor=user, team=dev_team)
    browser_decision = client.post(reverse("changes:decide", args=[other.key]), {"decision": "accept"})
    assert (browser_decision.status_code == 302) == can_triage
    other.refresh_from_db()
    assert (other.status == ChangeStatus.ACCEPTED) == can_triage
    assert client.get(reverse("changes:triage")).status_code == (200 if can_triage else 403)


def test_anonymous_api_is_refused(api):
    assert api.get("/api/v1/change-requests/").status_code in (401, 403)
    assert api.post("/api/v1/change-requests/", {"title": "x"}).status_code in (401, 403)


def test_unknown_change_request_is_404(api, po_user):
    assert (
        api.as_user(po_user)
        .post("/api/v1/change-requests/999999/triage/", {"decision": "accept"})
        .status_code
        == 404
    )
    assert api.get("/api/v1/change-requests/999999/").status_code == 404


def test_browser_defer_without_reason_shows_error_next_to_field(client, po_user, engineer_user, dev_team):
    change = change_request_create(title="Later", actor=engineer_user, team=dev_team)
    client.force_login(po_user)
    response = client.post(reverse("changes:decide", args=[change.key]), {"decision": "defer", "reason": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_reason_error"' in html and "requester sees this reason" in html
    change.refresh_from_db()
    assert change.status == ChangeStatus.SUBMITTED


def test_browser_form_keeps_input_on_error(client, engineer_user, dev_team):
    client.force_login(engineer_user)
    response = client.post(
        reverse("changes:create"),
        {
            "title": "Kill switch",
            "kind": "emergency",
            "source": "support",
            "team": dev_team.pk,
            "justification": "",
        },
    )
    assert response.status_code == 400  # a refused form: the API's code for the same refusal
    html = response.content.decode()
    assert 'value="Kill switch"' in html
    assert "needs a justification" in html
    assert not ChangeRequest.objects.exists()


def test_requester_sees_rejection_reason(client, engineer_user, po_user, dev_team):
    from changes.services import change_request_triage

    change = change_request_create(title="Dark mode", actor=engineer_user, team=dev_team)
    change_request_triage(
        change=change, decision="reject", actor=po_user, reason="Brand guidelines forbid it"
    )
    client.force_login(engineer_user)
    html = client.get(reverse("changes:detail", args=[change.key])).content.decode()
    assert "Brand guidelines forbid it" in html


@pytest.mark.parametrize("url_name", ["changes:triage", "changes:list"])
def test_query_count_does_not_grow_with_rows(
    client, po_user, engineer_user, dev_team, make_incident, url_name, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(po_user)

    def seed(n):
        for i in range(n):
            change = change_request_create(title=f"C{i}", actor=engineer_user, team=dev_team)
            change.incidents.add(make_incident())

    seed(3)
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse(url_name)).status_code == 200
    seed(40)
    with CaptureQueriesContext(connection) as large:
        assert client.get(reverse(url_name)).status_code == 200
    assert len(large) == len(small)
    with CaptureQueriesContext(connection) as api_small:
        client.get("/api/v1/change-requests/")
    seed(10)
    with CaptureQueriesContext(connection) as api_large:
        client.get("/api/v1/change-requests/")
    assert len(api_large) == len(api_small)

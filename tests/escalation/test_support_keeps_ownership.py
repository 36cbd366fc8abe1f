"""Support keeps ownership while development works the card (SPEC §7), the same rules in the
browser and the API, and the hand-back notification naming the group that has the case."""

import pytest
from django.urls import reverse

from escalation.services import (
    escalations_on_card_cancelled,
    escalations_on_card_done,
    incident_escalate_to_development,
)
from incidents import permissions as perms
from incidents.models import HoldReason, Status
from incidents.services import incident_create, incident_transition
from incidents.views import _available_actions
from notifications.models import Notification
from tests.boards.factories import CardFactory

pytestmark = pytest.mark.django_db

OWNER_ACTIONS = {"comment", "hold", "resolve", "link", "start", "assign", "escalate", "time", "merge"}


@pytest.fixture
def colleague(make_user, support_team):
    """Another engineer of the incident's support group (not its assignee)."""
    user = make_user("support_engineer", username="colleague")
    support_team.members.add(user)
    return user


def test_support_owner_keeps_every_action_after_escalating_to_development(
    tier2_incident, engineer_user, colleague, developer_user, support_team, dev_team, board
):
    incident = tier2_incident()
    result = incident_escalate_to_development(incident=incident, actor=engineer_user, note="Trace")
    incident.refresh_from_db()
    assert incident.status == Status.ON_HOLD and incident.hold_reason == HoldReason.AWAITING_DEVELOPMENT
    assert incident.tier == 3 and result.escalation.to_team == dev_team
    # the case stays with support: its group and its assignee
    assert incident.team == support_team and incident.assignee == engineer_user
    for owner in (engineer_user, colleague):
        assert perms.is_support_owner(owner, incident)
        assert _available_actions(owner, incident) >= OWNER_ACTIONS, owner
    # development works the card; it may reply and log time, not take the case
    assert not perms.can_transition(developer_user, incident)
    assert perms.can_comment(developer_user, incident)


def test_a_tier_two_engineer_who_logs_an_incident_can_act_on_it(
    engineer_user, support_team, service, desk_team, board
):
    incident = incident_create(actor=engineer_user, title="Refund totals off by one cent", service=service)
    assert incident.team == support_team and incident.tier == 2  # not the desk, tier 1
    assert perms.can_take(engineer_user, incident)
    from escalation.permissions import can_escalate_to_development

    assert can_escalate_to_development(engineer_user, incident)


def test_the_desk_still_logs_into_its_own_queue(desk_user, service, desk_team, support_team):
    incident = incident_create(actor=desk_user, title="Card payments fail", service=service)
    assert incident.team == desk_team and incident.tier == 1


def test_changing_the_hold_while_development_works(tier2_incident, engineer_user, board):
    incident = tier2_incident()
    incident_escalate_to_development(incident=incident, actor=engineer_user)
    incident = incident_transition(
        incident=incident, actor=engineer_user, status=Status.ON_HOLD, reason=HoldReason.AWAITING_CUSTOMER
    )
    assert incident.status == Status.ON_HOLD and incident.hold_reason == HoldReason.AWAITING_CUSTOMER
    assert incident.events.filter(field="hold_reason", new=HoldReason.AWAITING_CUSTOMER).exists()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        incident_transition(
            incident=incident, actor=engineer_user, status=Status.ON_HOLD, reason=HoldReason.AWAITING_CUSTOMER
        )
    assert "reason" in exc.value.message_dict


def test_the_api_gives_the_support_owner_every_action_and_the_browsers_rules(
    api, engineer_user, support_team, service, board
):
    client = api.as_user(engineer_user)
    created = client.post(
        "/api/v1/incidents/",
        {"title": "Payout file empty", "service": service.pk, "impact": "high", "urgency": "low"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["team"] == support_team.pk
    escalated = client.post(f"/api/v1/incidents/{pk}/escalate-to-development/", {"note": "Trace"})
    assert escalated.status_code == 201, escalated.json()
    base = f"/api/v1/incidents/{pk}"

    reply = client.post(f"{base}/comments/", {"body": "We found the cause.", "public": True}, format="json")
    note = client.post(f"{base}/comments/", {"body": "Dev is on it.", "public": False}, format="json")
    assert reply.status_code == note.status_code == 201
    hold = client.post(
        f"{base}/transition/", {"status": "on_hold", "reason": "awaiting_customer"}, format="json"
    )
    assert hold.status_code == 200, hold.json()
    assert hold.json()["hold_reason"] == "awaiting_customer" and hold.json()["tier"] == 3

    # a cause needs a target, as in the browser: 400 with the field
    no_target = client.post(f"{base}/link-cause/", {}, format="json")
    assert no_target.status_code == 400 and "card" in no_target.json()
    cause = CardFactory(board=board)
    linked = client.post(f"{base}/link-cause/", {"card": cause.pk}, format="json")
    assert linked.status_code == 200 and linked.json()["caused_by_card"] == cause.pk

    # resolving needs a resolution note, as in the browser: 400 with the field
    bare = client.post(
        f"{base}/transition/", {"status": "resolved", "resolution_code": "fixed"}, format="json"
    )
    assert bare.status_code == 400 and "note" in bare.json()
    resolved = client.post(
        f"{base}/transition/",
        {"status": "resolved", "resolution_code": "workaround", "note": "Re-sent the file by hand."},
        format="json",
    )
    assert resolved.status_code == 200, resolved.json()
    assert resolved.json()["status"] == "resolved" and resolved.json()["team"] == support_team.pk


def test_browser_resolve_needs_the_same_note(client, tier2_incident, engineer_user):
    incident = tier2_incident()
    client.force_login(engineer_user)
    response = client.post(
        reverse("incidents:action", args=[incident.key, "resolve"]),
        {"resolve-resolution_code": "fixed", "resolve-note": ""},
    )
    assert response.status_code == 400
    incident.refresh_from_db()
    assert incident.status != Status.RESOLVED


def test_hand_back_names_the_support_group_in_plain_words(
    tier2_incident, engineer_user, support_team, board, django_capture_on_commit_callbacks
):
    incident = tier2_incident()
    result = incident_escalate_to_development(incident=incident, actor=engineer_user)
    Notification.objects.all().delete()
    escalations_on_card_done(card=result.card, actor=None)
    (notice,) = Notification.objects.filter(recipient=engineer_user, kind="fix_returned")
    assert notice.title == f"{incident.key} is back with App Support (Tier 2): {result.card.key} is done"
    incident.refresh_from_db()
    assert incident.status == Status.IN_PROGRESS and incident.tier == 2
    assert incident.team == support_team and incident.assignee == engineer_user


def test_hand_back_after_cancelling_the_card(tier2_incident, engineer_user, board):
    incident = tier2_incident()
    result = incident_escalate_to_development(incident=incident, actor=engineer_user)
    escalations_on_card_cancelled(card=result.card, actor=None)
    (notice,) = Notification.objects.filter(recipient=engineer_user, kind="fix_returned")
    assert notice.title == (
        f"{incident.key} is back with App Support (Tier 2): development cancelled {result.card.key}"
    )


def test_an_escalation_made_before_support_kept_the_case_still_comes_back(
    tier2_incident, engineer_user, support_team, dev_team, board
):
    """Escalations recorded by the old flow moved the incident to the development team and
    dropped the assignee; their back-sync still returns it to the group it came from."""
    from incidents.models import Incident

    incident = tier2_incident()
    result = incident_escalate_to_development(incident=incident, actor=engineer_user)
    Incident.objects.filter(pk=incident.pk).update(team=dev_team, assignee=None)
    escalations_on_card_done(card=result.card, actor=None)
    incident.refresh_from_db()
    assert incident.team == support_team and incident.tier == 2 and incident.assignee == engineer_user
    notice = Notification.objects.get(recipient=engineer_user, kind="fix_returned")
    assert "is back with App Support (Tier 2)" in notice.title


def test_incident_page_shows_where_the_work_is_and_the_resume_label(
    client, tier2_incident, engineer_user, board
):
    incident = tier2_incident()
    result = incident_escalate_to_development(incident=incident, actor=engineer_user)
    client.force_login(engineer_user)
    html = client.get(reverse("incidents:detail", args=[incident.key])).content.decode()
    assert "Owner: App Support (Tier 2)" in html
    assert 'data-testid="work-with-development"' in html and result.card.key in html
    assert "Payments Dev" in html
    assert ">Resume work<" in html and ">Start work<" not in html
    assert "Change the hold" in html and "Link cause" in html and ">Resolve<" in html


def test_a_service_request_is_called_a_request(client, desk_user, desk_team, service):
    client.force_login(desk_user)
    form = client.get(reverse("incidents:create"), {"type": "service_request"}).content.decode()
    assert "<h1>Log service request</h1>" in form
    assert ">Log service request</button>" in form and ">Log incident</button>" not in form
    request = incident_create(
        actor=desk_user, title="Audit data set for Q3", service=service, type="service_request"
    )
    html = client.get(reverse("incidents:detail", args=[request.key])).content.decode()
    assert "Logged the service request" in html and "Logged the incident" not in html
    assert "Cancel service request" in html


def test_the_api_refuses_what_the_browser_refuses(api, tier2_incident, engineer_user):
    """Each rule of the incident page's forms lives in the service, so the API answers 400
    with the field: a resolution note, a cause's target, a hold that changes something."""
    incident = tier2_incident()
    base = f"/api/v1/incidents/{incident.pk}"
    client = api.as_user(engineer_user)
    bare = client.post(
        f"{base}/transition/", {"status": "resolved", "resolution_code": "fixed"}, format="json"
    )
    assert bare.status_code == 400 and set(bare.json()) >= {"note"}
    no_target = client.post(f"{base}/link-cause/", {"card": None, "release": None}, format="json")
    assert no_target.status_code == 400 and "card" in no_target.json()
    hold = {"status": "on_hold", "reason": "awaiting_customer"}
    assert client.post(f"{base}/transition/", hold, format="json").status_code == 200
    again = client.post(f"{base}/transition/", hold, format="json")
    assert again.status_code == 400 and "reason" in again.json()
    incident.refresh_from_db()
    assert incident.status == Status.ON_HOLD and incident.resolution_code == ""


def test_the_development_panel_is_for_staff(client, make_user, tier2_incident, engineer_user):
    incident = tier2_incident()
    url = reverse("escalation:panel", args=[incident.key])
    client.force_login(make_user(username="norole"))
    assert client.get(url).status_code == 403
    client.force_login(engineer_user)
    assert client.get(url).status_code == 200

"""Emergency changes cost what they cost (issue 14, item 6): an estimate (defaulting like an
escalated defect), the escalation's impact preview before confirming, the product owner
told at once, emergencies first in the triage queue; and a change request needs a team."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.roles import Role
from changes.models import ChangeRequest, ChangeStatus, Kind
from changes.selectors import triage_queue
from changes.services import (
    change_request_create,
    change_request_triage,
    change_request_triage_preview,
    emergency_default_estimate,
)
from notifications.models import Notification
from sprints.models import ScopeChange, SprintState, WorkSource
from tests.boards.factories import CardFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def emergency(dev_team, engineer_user, make_incident):
    change = change_request_create(
        title="Block fraudulent BIN range",
        actor=engineer_user,
        team=dev_team,
        kind=Kind.EMERGENCY,
        justification="Active fraud attack",
        incidents=[make_incident(priority="P2")],
    )
    return change


@pytest.fixture
def active(make_sprint, board):
    sprint = make_sprint(state=SprintState.ACTIVE, committed=Decimal("10"))
    return sprint


# ------------------------------------------------------------------ estimate and cost
def test_emergency_enters_the_sprint_with_the_default_estimate_of_its_incidents_priority(
    emergency, active, po_user
):
    assert emergency_default_estimate(emergency) == Decimal("3")  # team default for P2
    decided = change_request_triage(change=emergency, decision="accept", actor=po_user)
    emergency.refresh_from_db()
    assert emergency.card.estimate == Decimal("3")
    log = ScopeChange.objects.get(sprint=active, card=emergency.card)
    assert (log.source, log.estimate_delta) == (WorkSource.EMERGENCY_CHANGE, Decimal("3"))
    assert decided.sprint_impact["estimate"] == 3.0
    assert decided.sprint_impact["unplanned_after"] - decided.sprint_impact["unplanned_before"] == 3.0


def test_the_product_owner_may_give_another_estimate_and_no_default_means_asking(
    dev_team, emergency, active, po_user
):
    change_request_triage(change=emergency, decision="accept", actor=po_user, estimate="8")
    emergency.refresh_from_db()
    assert emergency.card.estimate == Decimal("8")

    dev_team.default_estimates = {}
    dev_team.save(update_fields=["default_estimates"])
    other = change_request_create(
        title="Rotate keys", actor=po_user, team=dev_team, kind=Kind.EMERGENCY, justification="Leak"
    )
    other = ChangeRequest.objects.select_related("team").get(pk=other.pk)
    with pytest.raises(ValidationError) as exc:
        change_request_triage(change=other, decision="accept", actor=po_user)
    assert "estimate" in exc.value.message_dict
    other.refresh_from_db()
    assert other.status == ChangeStatus.SUBMITTED and other.card is None


def test_preview_uses_the_escalation_impact_and_writes_nothing(emergency, active, po_user, board):
    preview = change_request_triage_preview(change=emergency, decision="accept", actor=po_user, estimate=5)
    impact = preview.sprint_impact
    assert impact["sprint"]["id"] == active.pk and impact["estimate"] == 5.0
    assert {"support_reserve_remaining_after", "newly_at_risk", "sla_due_at"} <= set(impact)
    emergency.refresh_from_db()
    assert emergency.status == ChangeStatus.SUBMITTED and emergency.card is None
    assert board.cards.count() == 0 and not ScopeChange.objects.exists()


# ------------------------------------------------------------------ notification and queue
def test_submitting_an_emergency_notifies_the_teams_product_owner(dev_team, make_user, engineer_user):
    owner = make_user(Role.PRODUCT_OWNER, username="owner")
    dev_team.members.add(owner)
    make_user(Role.PRODUCT_OWNER, username="other_po")  # not on the team: not told
    change = change_request_create(
        title="Hotfix", actor=engineer_user, team=dev_team, kind=Kind.EMERGENCY, justification="Outage"
    )
    (note,) = Notification.objects.all()
    assert note.recipient == owner and change.key in note.title and "Emergency" in note.title
    change_request_create(title="Normal one", actor=engineer_user, team=dev_team)
    assert Notification.objects.count() == 1


def test_triage_queue_puts_emergencies_first_whatever_the_sort(dev_team, engineer_user):
    normal = change_request_create(title="Older normal", actor=engineer_user, team=dev_team)
    urgent = change_request_create(
        title="Newer emergency", actor=engineer_user, team=dev_team, kind=Kind.EMERGENCY, justification="Now"
    )
    for sort in ("oldest", "newest", "incidents"):
        assert [c.pk for c in triage_queue(sort=sort)][0] == urgent.pk, sort
    assert [c.pk for c in triage_queue(sort="oldest")] == [urgent.pk, normal.pk]


# ------------------------------------------------------------------ team required
def test_a_change_request_without_a_team_asks_for_one(engineer_user, api, client):
    with pytest.raises(ValidationError) as exc:
        change_request_create(title="Dark mode", actor=engineer_user)
    assert "team" in exc.value.message_dict
    r = api.as_user(engineer_user).post("/api/v1/change-requests/", {"title": "Dark mode"}, format="json")
    assert r.status_code == 400 and "Choose the development team" in r.json()["team"][0]
    client.force_login(engineer_user)
    r = client.post(reverse("changes:create"), {"title": "Dark mode", "kind": "normal", "source": "sales"})
    body = r.content.decode()
    # Not created: the form again, the message next to the team field, the title kept.
    assert (
        r.status_code in (200, 400) and "Choose the development team" in body and 'value="Dark mode"' in body
    )
    assert not ChangeRequest.objects.exists()


# ------------------------------------------------------------------ API and browser
def test_api_triage_takes_an_estimate_and_answers_with_the_impact(api, emergency, active, po_user):
    client = api.as_user(po_user)
    url = f"/api/v1/change-requests/{emergency.pk}/triage/"
    r = client.post(url, {"decision": "accept", "estimate": 4, "preview": True}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    assert r.json()["sprint_impact"]["estimate"] == 4.0
    r = client.post(url, {"decision": "accept", "estimate": 4}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "scheduled"
    assert r.json()["sprint_impact"]["sprint"]["id"] == active.pk
    emergency.refresh_from_db()
    assert emergency.card.estimate == Decimal("4")


def test_browser_shows_the_preview_before_confirming_an_emergency(client, emergency, active, po_user):
    CardFactory(board=active.board, sprint=active, estimate=Decimal("10"), title="Committed work")
    client.force_login(po_user)
    page = client.get(reverse("changes:detail", args=[emergency.key])).content.decode()
    assert 'name="estimate"' in page and ('value="3.0"' in page or 'value="3"' in page)
    assert "Effect on the sprint" in page and "This emergency change needs 3" in page
    # The queue's one-click accept is not offered for emergencies.
    queue = client.get(reverse("changes:triage")).content.decode()
    assert "Estimate and review impact" in queue
    # A decision posted without having seen the preview shows it instead of deciding.
    r = client.post(reverse("changes:decide", args=[emergency.key]), {"decision": "accept"})
    assert r.status_code == 200 and "This emergency change needs 3" in r.content.decode()
    emergency.refresh_from_db()
    assert emergency.status == ChangeStatus.SUBMITTED
    r = client.post(
        reverse("changes:decide", args=[emergency.key]),
        {"decision": "accept", "estimate": "6", "confirm": "1"},
    )
    assert r.status_code == 302
    emergency.refresh_from_db()
    assert emergency.status == ChangeStatus.SCHEDULED and emergency.card.estimate == Decimal("6")
    # The panel follows the estimate as it is typed (htmx), without writing anything.
    other = change_request_create(
        title="Second", actor=po_user, team=emergency.team, kind=Kind.EMERGENCY, justification="Again"
    )
    r = client.get(
        reverse("changes:triage_preview", args=[other.key]), {"decision": "accept", "estimate": "2"}
    )
    assert r.status_code == 200 and "This emergency change needs 2" in r.content.decode()
    other.refresh_from_db()
    assert other.card is None and other.status == ChangeStatus.SUBMITTED

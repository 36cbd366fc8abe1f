"""The board's own actions drive the back-sync: a move to done, a cancel, a deployment."""

import pytest

from boards.models import ColumnCategory
from boards.services import card_move, release_create, release_mark_deployed
from escalation.models import Outcome
from escalation.services import incident_escalate_to_development
from incidents.models import Status
from sprints.models import ScopeChange
from tests.boards.factories import column_of
from tracker.exceptions import TransitionNotAllowed
from webhooks.models import Delivery
from webhooks.services import subscription_create

pytestmark = pytest.mark.django_db


def test_moving_the_card_to_done_returns_the_incident(log_incident, engineer_user, developer_user, board):
    incident = log_incident()
    result = incident_escalate_to_development(incident=incident, actor=engineer_user)
    card_move(card=result.card, column=column_of(board, ColumnCategory.IN_PROGRESS), actor=developer_user)
    incident.refresh_from_db()
    assert incident.status == Status.ON_HOLD  # still waiting while the card is in progress
    card_move(card=result.card, column=column_of(board, ColumnCategory.DONE), actor=developer_user)
    incident.refresh_from_db()
    assert incident.status == Status.IN_PROGRESS and incident.tier == 1
    assert result.escalation.__class__.objects.get().outcome == Outcome.DONE


def test_card_moves_and_done_are_webhook_events(
    log_incident, engineer_user, developer_user, board, manager_user
):
    subscription_create(url="http://127.0.0.1:9/x", events=["card.moved", "card.done"], actor=manager_user)
    result = incident_escalate_to_development(incident=log_incident(), actor=engineer_user)
    card_move(card=result.card, column=column_of(board, ColumnCategory.DONE), actor=developer_user)
    assert sorted(Delivery.objects.values_list("event", flat=True)) == ["card.done", "card.moved"]


def test_cancelling_the_card_returns_the_incident_and_leaves_the_sprint(
    api, log_incident, engineer_user, developer_user, board, active_sprint
):
    incident = log_incident()
    result = incident_escalate_to_development(incident=incident, actor=engineer_user)
    assert result.card.sprint == active_sprint
    missing = api.as_user(developer_user).post(f"/api/v1/cards/{result.card.pk}/cancel/", {})
    assert missing.status_code == 400 and "reason" in missing.json()
    response = api.post(f"/api/v1/cards/{result.card.pk}/cancel/", {"reason": "Not a defect: config"})
    assert response.status_code == 200, response.json()
    incident.refresh_from_db()
    assert incident.status == Status.IN_PROGRESS
    assert ScopeChange.objects.filter(card=result.card, change="removed").exists()
    again = api.post(f"/api/v1/cards/{result.card.pk}/cancel/", {"reason": "twice"})
    assert again.status_code == 409
    with pytest.raises(TransitionNotAllowed):
        card_move(card=result.card, column=column_of(board, ColumnCategory.DONE), actor=developer_user)


def test_deploying_the_release_returns_incidents(log_incident, engineer_user, developer_user, board):
    incident = log_incident()
    result = incident_escalate_to_development(incident=incident, actor=engineer_user)
    release = release_create(board=board, name="2026.12", actor=developer_user)
    result.card.release = release
    result.card.save(update_fields=["release"])
    release_mark_deployed(release=release, actor=developer_user)
    incident.refresh_from_db()
    assert incident.status == Status.IN_PROGRESS
    assert result.escalation.__class__.objects.get().outcome == Outcome.DEPLOYED


def test_cancel_in_browser_needs_reason(client, log_incident, engineer_user, developer_user, board):
    result = incident_escalate_to_development(incident=log_incident(), actor=engineer_user)
    client.force_login(developer_user)
    client.post(f"/boards/cards/{result.card.pk}/cancel/", {"reason": ""})
    result.card.refresh_from_db()
    assert result.card.cancelled_at is None
    client.post(f"/boards/cards/{result.card.pk}/cancel/", {"reason": "Duplicate of DEV-1"})
    result.card.refresh_from_db()
    assert result.card.cancelled_at is not None

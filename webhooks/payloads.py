"""What each event tells a receiver: small, stable shapes keyed like the API."""


def incident_payload(incident) -> dict:
    return {
        "id": incident.pk,
        "key": incident.key,
        "title": incident.title,
        "type": incident.type,
        "priority": incident.priority,
        "status": incident.status,
        "hold_reason": incident.hold_reason,
        "service": incident.service_id,
        "customer": incident.customer_id,
        "team": incident.team_id,
        "tier": incident.tier,
        "assignee": incident.assignee_id,
        "is_major": incident.is_major,
        "created_at": incident.created_at,
    }


def card_payload(card) -> dict:
    return {
        "id": card.pk,
        "key": card.key,
        "title": card.title,
        "type": card.type,
        "board": card.board_id,
        "column": card.column_id,
        "lane": card.lane_id,
        "assignee": card.assignee_id,
        "sprint": card.sprint_id,
        "estimate": card.estimate,
        "done_at": card.done_at,
    }


def change_payload(change) -> dict:
    return {
        "id": change.pk,
        "key": change.key,
        "title": change.title,
        "kind": change.kind,
        "source": change.source,
        "status": change.status,
        "decision_reason": change.decision_reason,
        "card": change.card_id,
        "decided_by": change.decided_by_id,
        "decided_at": change.decided_at,
    }

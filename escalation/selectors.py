from .models import Escalation


def escalations_for_incident(incident) -> list[Escalation]:
    """The incident's escalations with their cards' live state, newest first (one query)."""
    return list(
        Escalation.objects.filter(incident=incident)
        .select_related(
            "card__column", "card__lane", "card__assignee", "card__sprint", "card__board", "to_team"
        )
        .order_by("-at", "-id")
    )

from incidents.models import Incident

from .models import Escalation


def escalations_for_incident(incident: Incident) -> list[Escalation]:
    """The incident's escalations with their cards' live state, newest first (one query,
    kept on the incident object: the page header and the development panel both ask)."""
    cached = getattr(incident, "_escalations", None)
    if cached is None:
        cached = list(
            Escalation.objects.filter(incident=incident)
            .select_related(
                "card__column", "card__lane", "card__assignee", "card__sprint", "card__board", "to_team"
            )
            .order_by("-at", "-id")
        )
        incident._escalations = cached  # type: ignore[attr-defined]  # a per-object cache, not a field
    return cached


def open_escalation_for(incident: Incident) -> Escalation | None:
    """The escalation development is working now, if any."""
    return next((e for e in escalations_for_incident(incident) if e.returned_at is None), None)

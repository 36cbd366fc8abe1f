"""Sprint scope: every card that joins, leaves or is re-estimated in a sprint goes through
here, whatever the entry point (board, API, escalation, triage)."""

from boards.models import Card
from sprints.models import WorkSource


def card_sprint_set(*, card: Card, sprint, actor, reason="", source=WorkSource.PLANNED):
    """Move `card` into `sprint` (or out of any sprint when None). The caller holds the
    card's row lock and saves nothing else of the card afterwards."""
    card.sprint = sprint
    card.save(update_fields=["sprint", "updated_at"])


def card_estimate_set(*, card: Card, estimate, actor, reason=""):
    """Change a card's estimate; logged as a re-estimate when its sprint is active."""
    card.estimate = estimate
    card.save(update_fields=["estimate", "updated_at"])

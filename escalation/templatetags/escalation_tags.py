from django import template

from ..permissions import can_escalate_to_development
from ..selectors import escalations_for_incident

register = template.Library()


@register.inclusion_tag("escalation/_panel.html", takes_context=True)
def development_panel(context, incident):
    """What development is doing about this incident, refreshed live on the incident page."""
    user = context["request"].user
    escalations = escalations_for_incident(incident)
    open_escalation = next((e for e in escalations if e.returned_at is None), None)
    return {
        "incident": incident,
        "escalations": escalations,
        "open_escalation": open_escalation,
        "can_escalate": incident.is_open
        and open_escalation is None
        and can_escalate_to_development(user, incident),
        "request": context["request"],
    }

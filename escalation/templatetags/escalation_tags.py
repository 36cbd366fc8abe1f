from django import template

from boards.selectors import incident_fix_forecast

from ..permissions import can_escalate_to_development
from ..selectors import escalations_for_incident, open_escalation_for

register = template.Library()


@register.inclusion_tag("escalation/_panel.html", takes_context=True)
def development_panel(context, incident):
    """What development is doing about this incident, refreshed live on the incident page."""
    user = context["request"].user
    escalations = escalations_for_incident(incident)
    open_escalation = open_escalation_for(incident)
    return {
        "incident": incident,
        "escalations": escalations,
        "open_escalation": open_escalation,
        "can_escalate": incident.is_open
        and open_escalation is None
        and can_escalate_to_development(user, incident),
        "request": context["request"],
        # The panel refreshes every 15 s: the forecast follows the card as it moves.
        "fix_forecast": incident_fix_forecast(incident.pk),
    }


@register.inclusion_tag("escalation/_where.html")
def where_the_work_is(incident):
    """The incident header's line: who owns the case and, while development works a card,
    the team, the card and its live column — support keeps the case (SPEC §7)."""
    return {"incident": incident, "open_escalation": open_escalation_for(incident)}

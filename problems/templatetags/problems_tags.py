from django import template

from incidents.permissions import can_view_incidents

from ..forms import LinkToProblemForm
from ..permissions import can_create_problem
from ..selectors import problem_for_incident

register = template.Library()


@register.inclusion_tag("problems/_incident_panel.html", takes_context=True)
def problem_panel(context, incident):
    """The incident page's problem panel: the problem it belongs to and, for a known error,
    the workaround to give the customer; otherwise a way to link or open one (proposed
    outright for a major incident)."""
    user = context["request"].user
    problem = problem_for_incident(incident)
    may_link = problem is None and can_create_problem(user)
    return {
        "incident": incident,
        "problem": problem,
        "visible": can_view_incidents(user),
        "link_form": LinkToProblemForm(prefix="problem") if may_link else None,
        "can_create": problem is None and can_create_problem(user),
        "request": context["request"],
    }

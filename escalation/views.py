from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from incidents.models import Incident
from tracker.exceptions import DomainError
from tracker.forms import add_service_error

from .forms import EscalateToDevelopmentForm
from .permissions import can_escalate_to_development, can_view_development_panel
from .services import escalation_preview, incident_escalate_to_development


def _incident(request, key):
    incident = get_object_or_404(
        Incident.objects.select_related("service__team", "team", "assignee"), key=key
    )
    if not can_escalate_to_development(request.user, incident):
        raise PermissionDenied
    return incident


def _preview(form, incident, user):
    """The impact preview for what the form says now, or the reason it cannot be done."""
    if not form.is_valid():
        return None, None
    try:
        return escalation_preview(incident=incident, actor=user, **form.service_kwargs()), None
    except (ValidationError, DomainError) as exc:
        probe = EscalateToDevelopmentForm(form.data, incident=incident)
        probe.is_valid()
        add_service_error(probe, exc)
        return None, probe


def escalate(request, key):
    incident = _incident(request, key)
    if request.method == "POST":
        form = EscalateToDevelopmentForm(request.POST, incident=incident)
        if form.is_valid():
            try:
                result = incident_escalate_to_development(
                    incident=incident, actor=request.user, **form.service_kwargs()
                )
            except (ValidationError, DomainError) as exc:
                status = add_service_error(form, exc)
            else:
                messages.success(request, f"{incident.key} is with development as {result.card.key}.")
                return redirect("incidents:detail", key=incident.key)
        else:
            status = 400
        return render(
            request, "escalation/escalate.html", {"incident": incident, "form": form}, status=status
        )
    form = EscalateToDevelopmentForm(
        {"team": incident.service.team_id or ""} if incident.service.team_id else None, incident=incident
    )
    preview, problem = _preview(form, incident, request.user)
    return render(
        request,
        "escalation/escalate.html",
        {"incident": incident, "form": form, "preview": preview, "problem": problem},
    )


def preview(request, key):
    """htmx: the impact panel for the form's current values."""
    incident = _incident(request, key)
    form = EscalateToDevelopmentForm(request.GET, incident=incident)
    result, problem = _preview(form, incident, request.user)
    if problem is None and not form.is_valid():
        problem = form
    return render(
        request, "escalation/_impact.html", {"incident": incident, "preview": result, "problem": problem}
    )


def panel(request, key):
    """htmx: the incident page's development panel, re-rendered with the card's live state."""
    incident = get_object_or_404(Incident.objects.select_related("team", "service"), key=key)
    if not can_view_development_panel(request.user, incident):
        raise PermissionDenied
    return render(request, "escalation/_panel_wrapper.html", {"incident": incident})

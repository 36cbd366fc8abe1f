from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from incidents.models import Incident
from tracker.exceptions import DomainError
from tracker.forms import add_service_error, service_error_messages

from .forms import ChangeRequestForm, TriageForm
from .models import ChangeRequest, ChangeStatus, Decision, Kind, Source
from .permissions import can_submit_change, can_triage
from .selectors import TRIAGE_SORTS, change_request_list, triage_queue
from .services import (
    change_request_create,
    change_request_triage,
    change_request_triage_preview,
    emergency_default_estimate,
    is_awaiting_triage,
)

PAGE_SIZE = 50


def change_list(request):
    filters = {k: request.GET.get(k, "") for k in ("status", "source", "kind", "q")}
    mine = request.GET.get("mine") == "1"
    qs = change_request_list(filters=filters).order_by("-created_at", "-id")
    if mine:
        qs = qs.filter(requester=request.user)
    changes = list(qs[:PAGE_SIZE])
    return render(
        request,
        "changes/list.html",
        {
            "changes": changes,
            "filters": filters,
            "mine": mine,
            "statuses": ChangeStatus.choices,
            "sources": Source.choices,
            "kinds": Kind.choices,
            "truncated": len(changes) == PAGE_SIZE,
        },
    )


def change_create(request):
    if not can_submit_change(request.user):
        raise PermissionDenied
    incident = None
    if request.GET.get("incident"):
        incident = Incident.objects.filter(key=request.GET["incident"]).select_related("service").first()
    initial = {}
    if incident is not None:
        initial = {
            "title": f"Change for {incident.key}: {incident.title}",
            "incidents": [incident.pk],
            "source": Source.SUPPORT,
            "description": incident.description,
        }
    form = ChangeRequestForm(request.POST or None, initial=initial, extra_incident=incident)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            change = change_request_create(actor=request.user, **form.cleaned_data)
        except (ValidationError, DomainError) as exc:
            status = add_service_error(form, exc)
        else:
            messages.success(request, f"{change.key} submitted for triage.")
            return redirect("changes:detail", key=change.key)
    return render(request, "changes/form.html", {"form": form, "incident": incident}, status=status)


def change_detail(request, key):
    change = get_object_or_404(
        ChangeRequest.objects.select_related("requester", "team", "card__column", "decided_by", "approved_by")
        .prefetch_related(
            Prefetch("incidents", queryset=Incident.objects.only("id", "key", "title", "status"))
        )
        .prefetch_related("events__actor"),
        key=key,
    )
    form = None
    context = {"change": change}
    if can_triage(request.user) and _decidable(change):
        emergency = change.kind == Kind.EMERGENCY
        initial = {}
        if emergency:
            default = emergency_default_estimate(change)
            initial = {"decision": Decision.ACCEPT, "estimate": default}
        form = TriageForm(team=change.team, emergency=emergency, initial=initial)
        if emergency:
            context.update(
                _emergency_preview(
                    request, change, {"decision": Decision.ACCEPT, "estimate": initial["estimate"]}
                )
            )
    context["triage_form"] = form
    return render(request, "changes/detail.html", context)


def _decidable(change):
    return is_awaiting_triage(change) or change.status == ChangeStatus.ACCEPTED


def _emergency_preview(request, change, data):
    """The escalation impact preview for an emergency decision, or why it cannot be made."""
    decision = data.get("decision")
    if decision not in (Decision.ACCEPT, Decision.SCHEDULE):
        return {"preview": None, "problems": []}
    try:
        preview = change_request_triage_preview(
            change=change,
            actor=request.user,
            decision=decision,
            sprint=data.get("sprint"),
            estimate=data.get("estimate"),
        )
    except (ValidationError, DomainError) as exc:
        problems = [m for msgs in service_error_messages(exc).values() for m in msgs]
        return {"preview": None, "problems": problems}
    return {"preview": preview, "problems": []}


def triage_preview(request, key):
    """htmx: the impact panel of an emergency change for the triage form's current values."""
    change = get_object_or_404(ChangeRequest.objects.select_related("team", "card"), key=key)
    if not can_triage(request.user):
        raise PermissionDenied
    form = TriageForm(request.GET, team=change.team, emergency=True)
    if form.is_valid():
        context = {"change": change, **_emergency_preview(request, change, form.cleaned_data)}
    else:
        problems = [f"{form.fields[f].label or f}: {' '.join(e)}" for f, e in form.errors.items()]
        context = {"change": change, "preview": None, "problems": problems}
    return render(request, "changes/_impact.html", context)


def triage(request):
    if not can_triage(request.user):
        raise PermissionDenied
    filters = {k: request.GET.get(k, "") for k in ("status", "source", "kind", "q")}
    sort = request.GET.get("sort", "oldest")
    changes = list(triage_queue(filters=filters, sort=sort)[:PAGE_SIZE])
    now = timezone.now()
    for change in changes:
        change.age_days = (now - change.created_at).days
    return render(
        request,
        "changes/triage.html",
        {
            "changes": changes,
            "filters": filters,
            "sort": sort,
            "sorts": list(TRIAGE_SORTS),
            "sources": Source.choices,
            "kinds": Kind.choices,
        },
    )


@require_POST
def decide(request, key):
    change = get_object_or_404(ChangeRequest.objects.select_related("team"), key=key)
    if not can_triage(request.user):
        raise PermissionDenied
    emergency = change.kind == Kind.EMERGENCY
    form = TriageForm(request.POST, team=change.team, emergency=emergency)
    extra = {}
    status = 400
    if form.is_valid():
        data = dict(form.cleaned_data)
        confirmed = request.POST.get("confirm") == "1"
        if emergency and data["decision"] in (Decision.ACCEPT, Decision.SCHEDULE) and not confirmed:
            # An emergency enters a sprint only after its impact was shown: show it now.
            extra = _emergency_preview(request, change, data)
            messages.info(request, "Check the estimate and the effect on the sprint, then confirm.")
            status = 200
        else:
            try:
                change_request_triage(change=change, actor=request.user, **data)
            except (ValidationError, DomainError) as exc:
                status = add_service_error(form, exc)
            else:
                change.refresh_from_db()
                messages.success(request, f"{change.key} is now {change.get_status_display().lower()}.")
                return redirect(request.POST.get("next") or "changes:triage")
    change = (
        ChangeRequest.objects.select_related("requester", "team", "card__column", "decided_by", "approved_by")
        .prefetch_related("incidents", "events__actor")
        .get(pk=change.pk)
    )
    context = {"change": change, "triage_form": form, **extra}
    return render(request, "changes/detail.html", context, status=status)

"""SLA settings in the browser: everyone on staff reads, managers edit (same services and
predicates as the API)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from tracker.forms import add_service_error

from . import services
from .calendar import WEEKDAYS
from .forms import CalendarForm, PolicyForm
from .models import BusinessCalendar, SLAPolicy
from .permissions import can_manage_sla, can_view_sla_settings
from .selectors import calendar_list, policy_list


def _require(user, predicate):
    if not predicate(user):
        raise PermissionDenied


@login_required
def settings_home(request):
    _require(request.user, can_view_sla_settings)
    calendars = list(calendar_list())
    for cal in calendars:
        cal.week = [(d, (cal.hours or {}).get(d) or []) for d in WEEKDAYS]
    return render(
        request,
        "sla/settings.html",
        {
            "calendars": calendars,
            "policies": policy_list(),
            "can_manage": can_manage_sla(request.user),
            "weekdays": WEEKDAYS,
        },
    )


def _calendar_form(request, calendar=None):
    _require(request.user, can_manage_sla)
    form = CalendarForm(request.POST or None, instance=calendar)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                if calendar is None:
                    saved = services.calendar_create(actor=request.user, **form.service_data())
                else:
                    saved = services.calendar_update(
                        calendar=calendar, actor=request.user, **form.service_data()
                    )
            except ValidationError as exc:
                status = add_service_error(form, exc)
            else:
                messages.success(request, f"Calendar “{saved.name}” saved.")
                return redirect("sla:settings")
    return render(request, "sla/calendar_form.html", {"form": form, "calendar": calendar}, status=status)


@login_required
def calendar_create_view(request):
    return _calendar_form(request)


@login_required
def calendar_edit_view(request, pk):
    return _calendar_form(request, get_object_or_404(BusinessCalendar, pk=pk))


def _policy_form(request, policy=None):
    _require(request.user, can_manage_sla)
    form = PolicyForm(request.POST or None, instance=policy)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                if policy is None:
                    saved = services.policy_create(actor=request.user, **form.service_data())
                else:
                    saved = services.policy_update(policy=policy, actor=request.user, **form.service_data())
            except ValidationError as exc:
                status = add_service_error(form, exc)
            else:
                note = ""
                if SLAPolicy.objects.filter(pk=saved.pk, retarget_requested_at__isnull=False).exists():
                    note = (
                        " The clocks it runs are being recomputed from their start"
                        " (clocks already met or breached keep their outcome)."
                    )
                messages.success(request, f"Policy “{saved.name}” saved.{note}")
                return redirect("sla:settings")
    return render(request, "sla/policy_form.html", {"form": form, "policy": policy}, status=status)


@login_required
def policy_create_view(request):
    return _policy_form(request)


@login_required
def policy_edit_view(request, pk):
    return _policy_form(request, get_object_or_404(SLAPolicy.objects.select_related("calendar"), pk=pk))

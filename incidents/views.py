"""Browser side of incidents: the queue, the "Log incident" form and the incident page.

Each action on the incident page is a plain POST form (works without JS) that calls the
same service and permission predicate as the API.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import User
from org.models import ServiceSupportModel
from org.services import contacts_for_incident
from tracker.exceptions import DomainError
from tracker.forms import add_service_error
from tracker.paging import capped_page
from tracker.timefmt import PageInstants

from . import forms as f
from . import hooks, services
from . import permissions as perms
from .filters import IncidentFilter
from .hooks import QueueClock, clock_reads, collect_queue_extras
from .models import HoldReason, Incident, IncidentType, Status
from .selectors import (
    QUEUE_COLUMNS,
    QUEUE_SORTS,
    QUEUE_TABS,
    incident_get,
    incident_queue,
    incident_sort,
    incident_timeline,
    queue_names,
)
from .selectors import timer_state as display_state

PAGE_SIZE = 50


def _require_reader(user):
    if not perms.can_view_incidents(user):
        raise PermissionDenied("Your account has no role yet; ask an admin.")


def queue(request):
    _require_reader(request.user)
    tab = request.GET.get("tab", "all")
    if tab not in QUEUE_TABS:
        tab = "all"
    sort = request.GET.get("sort", "sla")
    if sort not in QUEUE_SORTS:
        sort = "sla"
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = "open"
    queryset = incident_queue(user=request.user, tab=tab)
    filterset = IncidentFilter(data, queryset=queryset, request=request)
    qs = filterset.qs if filterset.is_valid() else queryset.none()
    page = capped_page(incident_sort(qs, sort).values(*QUEUE_COLUMNS), PAGE_SIZE, request.GET.get("page"))
    rows = _queue_rows(list(page.object_list))
    params = data.copy()
    params.pop("page", None)
    # Higher apps' parts of the page (hooks.queue_extras): the desk's saved views, bulk bar.
    extras = collect_queue_extras(request=request, query=params)
    context = {
        "tabs": QUEUE_TABS,
        "tab": tab,
        "sort": sort,
        "sorts": QUEUE_SORTS,
        "filter": filterset,
        "page": page,
        "rows": rows,
        "assignees": User.objects.filter(teams__isnull=False, is_active=True)
        .distinct()
        .order_by("first_name"),
        "querystring": params.urlencode(),
        "can_create": perms.can_create_incident(request.user),
        "queue_extras": extras,
        "select_form": next((e.select_form for e in extras if e.select_form), ""),
        "kept_params": {k: v for e in extras for k, v in e.keep_params.items()},
    }
    template = (
        "incidents/_queue_results.html" if request.headers.get("HX-Request") else "incidents/queue.html"
    )
    return render(request, template, context)


STATUS_LABELS = dict(Status.choices)
HOLD_LABELS = dict(HoldReason.choices)


def _queue_rows(incidents: list[dict]) -> list[dict]:
    """The page's rows as the queue template writes them: every cell a plain value (the
    incidents read as QUEUE_COLUMNS values, their names and clocks read for the page at
    once; no model instance per row)."""
    ids = [incident["id"] for incident in incidents]
    names = queue_names(incidents)
    clocks = clock_reads().queue_clocks(ids, now=timezone.now())
    instants = PageInstants()
    # One reverse() for the page: the row links differ only by key.
    detail_url = reverse("incidents:detail", kwargs={"key": "KEY"}).replace("KEY", "{}")
    rows = []
    for incident in incidents:
        clock = clocks.get(incident["id"])
        rows.append(
            {
                **incident,
                "url": detail_url.format(incident["key"]),
                "customer": names.customers.get(incident["customer_id"], ""),
                "status_label": STATUS_LABELS.get(incident["status"], incident["status"]),
                "hold_label": HOLD_LABELS.get(incident["hold_reason"], incident["hold_reason"]),
                "team": names.teams.get(incident["team_id"], ""),
                "assignee": names.users.get(incident["assignee_id"], ""),
                "service": names.services.get(incident["service_id"], ""),
                "created": instants(incident["created_at"]),
                "badge": _queue_badge(clock, instants) if clock else None,
            }
        )
    return rows


def _queue_badge(clock: QueueClock, instants: PageInstants) -> dict:
    """A queue row's SLA badge, as incidents/_sla_badge.html shows a timer (its text is
    "met", "paused", "void (cancelled)", "no SLA policy", the due instant, or the state)."""
    state = clock.state
    due = instants(clock.due_at)
    if state in ("met", "paused"):
        text = state
    elif state == "cancelled":
        text = "void (cancelled)"
    elif not clock.has_policy and not clock.due_at:
        text = "no SLA policy"
    else:
        text = "" if due else state
    title = f"{clock.metric_label} SLA: {state.replace('_', '').capitalize()}"
    return {"state": state, "metric": clock.metric_label, "title": title, "due": due, "text": text}


def _create_with_contacts(actor, cleaned: dict, form_data=None) -> Incident:
    """The log form's requester and copies become contacts in the incident's transaction, and
    higher apps act on their fields of the form there too (hooks.incident_logged)."""
    data = dict(cleaned)
    data.pop("requester_search", None)
    named = {k: data.pop(k, "") for k in ("new_contact_name", "new_contact_email")}
    with transaction.atomic():
        customer, requester, cc = contacts_for_incident(
            customer=data.get("customer"),
            requester=data.get("requester"),
            cc_emails=data.pop("cc", ""),
            **named,
        )
        data.update(customer=customer, requester=requester, cc=cc)
        incident = services.incident_create(actor=actor, **data)
        hooks.fire_incident_logged(incident=incident, form_data=form_data or {}, actor=actor)
        return incident


def create(request):
    if not perms.can_create_incident(request.user):
        raise PermissionDenied("Your role cannot log incidents.")
    # ?type=service_request opens the form for a service request.
    initial = {"type": request.GET["type"]} if request.GET.get("type") in IncidentType.values else {}
    form = f.IncidentCreateForm(request.POST or None, initial=initial)
    kind = (form.data.get("type") if form.is_bound else initial.get("type")) or IncidentType.INCIDENT
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            incident = _create_with_contacts(request.user, form.cleaned_data, request.POST)
        except (ValidationError, DomainError) as exc:
            status = add_service_error(form, exc)
        else:
            messages.success(request, f"{incident.key} logged with priority {incident.priority}.")
            return redirect("incidents:detail", key=incident.key)
    context = {
        "form": form,
        "noun": services.record_noun(kind),
        "is_request": kind == IncidentType.SERVICE_REQUEST,
    }
    return render(request, "incidents/create.html", context, status=status)


# ------------------------------------------------------------------ incident page
def _to(target):
    def handle(incident, user, data):
        return services.incident_transition(
            incident=incident,
            actor=user,
            status=target,
            reason=data.get("reason", ""),
            resolution_code=data.get("resolution_code", ""),
            note=data.get("note", ""),
            expected_version=data.get("version"),
        )

    return handle


# name -> (form class, permission predicate, service call, success message)
ACTIONS = {
    "take": (f.EmptyForm, perms.can_take, lambda i, u, d: services.incident_take(
        incident=i, actor=u, expected_version=d.get("version")), "You took {key}."),
    "start": (f.EmptyForm, perms.can_transition, _to(Status.IN_PROGRESS), "{key} is in progress."),
    "hold": (f.HoldForm, perms.can_transition, _to(Status.ON_HOLD), "{key} is on hold."),
    "resolve": (f.ResolveForm, perms.can_transition, _to(Status.RESOLVED), "{key} resolved."),
    "reopen": (f.NoteOnlyForm, perms.can_transition, _to(Status.IN_PROGRESS), "{key} reopened."),
    "close": (f.EmptyForm, perms.can_transition, _to(Status.CLOSED), "{key} closed."),
    "cancel": (f.CancelForm, perms.can_transition, _to(Status.CANCELLED), "{key} cancelled."),
    "assign": (f.AssignForm, perms.can_assign, lambda i, u, d: services.incident_assign(
        incident=i, actor=u, assignee=d["assignee"], expected_version=d.get("version")), "{key} assigned."),
    "comment": (f.CommentForm, perms.can_comment, lambda i, u, d: services.incident_comment(
        incident=i, actor=u, body=d["body"], public=d["visibility"] == "public",
        attachments=d.get("files") or ()), "Added to {key}."),
    "escalate": (f.EscalateForm, perms.can_escalate, lambda i, u, d: services.incident_escalate(
        incident=i, actor=u, team=d["team"], note=d["note"], expected_version=d.get("version")),
        "{key} handed to {team}."),
    "time": (f.TimeForm, perms.can_log_time, lambda i, u, d: services.incident_log_time(
        incident=i, actor=u, minutes=d["minutes"], note=d["note"]), "Time logged on {key}."),
    "priority": (f.PriorityForm, perms.can_override_priority, lambda i, u, d: services.incident_set_priority(
        incident=i, actor=u, priority=d["priority"], reason=d["reason"], expected_version=d.get("version")),
        "{key} priority is now {priority}."),
    "major": (f.MajorForm, perms.can_declare_major, lambda i, u, d: services.incident_declare_major(
        incident=i, actor=u, note=d["note"]), "{key} declared a major incident; managers are notified."),
    "merge": (f.MergeForm, perms.can_merge, lambda i, u, d: services.incident_merge_duplicate(
        incident=i, actor=u, parent=d["parent"], note=d["note"]), "{key} merged as a duplicate."),
    "link": (f.LinkCauseForm, perms.can_link, lambda i, u, d: services.incident_link_cause(
        incident=i, actor=u, card=d["card"], release=d["release"]), "Cause linked on {key}."),
    "join": (f.EmptyForm, perms.can_join_swarm, lambda i, u, d: services.incident_swarm_join(
        incident=i, actor=u), "You joined the swarm on {key}."),
    "leave": (f.EmptyForm, perms.can_join_swarm, lambda i, u, d: services.incident_swarm_leave(
        incident=i, actor=u), "You left the swarm on {key}."),
}  # fmt: skip

FORMS_NEEDING_INCIDENT = (f.AssignForm, f.EscalateForm)


def _form(name, incident, data=None, files=None):
    form_class = ACTIONS[name][0]
    kwargs = {"incident": incident} if form_class in FORMS_NEEDING_INCIDENT else {}
    if data is None:
        initial = {"version": incident.version} if "version" in form_class.base_fields else {}
        return form_class(initial=initial, prefix=name, **kwargs)
    return form_class(data, files, prefix=name, **kwargs)


def _available_actions(user, incident) -> set[str]:
    """What the page offers this user now: permitted and possible in the current state."""
    nexts = services.allowed_next_statuses(incident.status)
    swarm = incident.service.support_model == ServiceSupportModel.SWARM
    joined = user.pk in {p.pk for p in incident.participants.all()}
    checks = {
        "take": perms.can_take(user, incident) and incident.assignee_id != user.pk,
        "start": incident.status in (Status.NEW, Status.ON_HOLD) and perms.can_transition(user, incident),
        # On hold, the same form changes what the incident waits on.
        "hold": Status.ON_HOLD in nexts and perms.can_transition(user, incident),
        "resolve": Status.RESOLVED in nexts and perms.can_transition(user, incident),
        "reopen": incident.status == Status.RESOLVED and perms.can_transition(user, incident),
        "close": Status.CLOSED in nexts and perms.can_transition(user, incident),
        "cancel": Status.CANCELLED in nexts and perms.can_transition(user, incident),
        "assign": incident.is_open and perms.can_assign(user, incident),
        "comment": perms.can_comment(user, incident),
        "escalate": incident.is_open and not swarm and perms.can_escalate(user, incident),
        "time": perms.can_log_time(user, incident),
        "priority": incident.is_open and perms.can_override_priority(user, incident),
        "major": incident.is_open and not incident.is_major and perms.can_declare_major(user, incident),
        "merge": Status.RESOLVED in nexts and not incident.parent_id and perms.can_merge(user, incident),
        "link": perms.can_link(user, incident),
        "join": incident.is_open and swarm and not joined and perms.can_join_swarm(user, incident),
        "leave": swarm and joined,
    }
    return {name for name, ok in checks.items() if ok}


# Order and wording of the action panel; one-click actions have no fields to fill.
ACTION_UI = [
    ("take", "Take it", True),
    ("start", "Start work", True),
    ("join", "Join the swarm", True),
    ("assign", "Assign", False),
    ("escalate", "Escalate / hand over", False),
    ("hold", "Put on hold", False),
    ("resolve", "Resolve", False),
    ("reopen", "Reopen", False),
    ("close", "Close", True),
    ("time", "Log time", False),
    ("link", "Link cause", False),
    ("merge", "Merge as duplicate", False),
    ("cancel", "Cancel incident", False),
    ("priority", "Override priority", False),
    ("major", "Declare major incident", False),
    ("leave", "Leave the swarm", True),
]


def _get_incident(key):
    try:
        return incident_get(key=key)
    except Incident.DoesNotExist:
        raise Http404(f"No incident {key}.") from None


def _action_label(name, label, incident) -> str:
    """Wording that fits the record's state and type."""
    if incident.status == Status.ON_HOLD and name == "start":
        return "Resume work"
    if incident.status == Status.ON_HOLD and name == "hold":
        return "Change the hold"
    if name == "cancel":
        return f"Cancel {services.record_noun(incident.type)}"
    return label


def _render_detail(request, incident, *, bound=None, status=200):
    available = _available_actions(request.user, incident)
    forms = {name: _form(name, incident) for name in available}
    if bound is not None:
        forms[bound[0]] = bound[1]
    now = timezone.now()
    timers = [{"timer": t, "state": display_state(t, now)} for t in incident.sla_timers.all()]
    action_list = [
        {
            "name": name,
            "label": _action_label(name, label, incident),
            "one_click": one_click,
            "form": forms[name],
        }
        for name, label, one_click in ACTION_UI
        if name in forms
    ]
    context = {
        "incident": incident,
        "noun": services.record_noun(incident.type),
        "action_list": action_list,
        "comment_form": forms.get("comment"),
        # Higher apps' controls in the reply form (hooks.reply_tools): the article picker.
        "reply_tools": (
            hooks.collect_reply_tools(request=request, incident=incident) if "comment" in forms else []
        ),
        "timeline": incident_timeline(incident),
        "timers": timers,
        "forms": forms,
        "available": available,
        "open_action": bound[0] if bound else "",
        "time_total": sum(e.minutes for e in incident.time_entries.all()),
        "duplicates": list(incident.duplicates.only("key", "title", "status")),
    }
    return render(request, "incidents/detail.html", context, status=status)


def detail(request, key):
    _require_reader(request.user)
    return _render_detail(request, _get_incident(key))


@require_POST
def act(request, key, name):
    _require_reader(request.user)
    if name not in ACTIONS:
        raise Http404("No such action.")
    incident = _get_incident(key)
    form_class, allowed, handler, message = ACTIONS[name]
    if not allowed(request.user, incident):
        raise PermissionDenied("You cannot do that on this incident.")
    form = _form(name, incident, request.POST, request.FILES)
    status = 400
    if form.is_valid():
        try:
            result = handler(incident, request.user, form.cleaned_data)
        except (ValidationError, DomainError) as exc:
            status = add_service_error(form, exc)
        else:
            fresh = result if isinstance(result, Incident) else incident
            messages.success(
                request,
                message.format(
                    key=incident.key,
                    team=getattr(form.cleaned_data.get("team"), "name", ""),
                    priority=getattr(fresh, "priority", ""),
                ),
            )
            return redirect(reverse("incidents:detail", kwargs={"key": incident.key}) + f"#{name}-done")
    return _render_detail(request, incident, bound=(name, form), status=status)

"""Browser side of problems: the list, a problem's page and its actions, creating one (from
incidents too), escalating it, resolving it with its incidents, the log form's suggestions,
the incident page's problem panel actions, and the managers' top problems.

Each action is a plain POST form calling the same service and predicate as the API.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from incidents.models import Incident
from incidents.permissions import can_create_incident
from knowledge.permissions import can_create_article
from knowledge.services import article_create
from org.models import Service
from tracker.exceptions import DomainError
from tracker.forms import add_service_error, service_error_text

from . import forms as f
from . import permissions as perms
from . import services
from .models import Problem, ProblemStatus
from .selectors import (
    PROBLEM_SORTS,
    REPORT_SORTS,
    problem_get,
    problem_incidents,
    problem_list,
    problem_report,
    problem_sort,
    problem_timeline_labelled,
    similar_to,
)

PAGE_SIZE = 50


def _require(allowed, message="You cannot do that."):
    if not allowed:
        raise PermissionDenied(message)


def _problem(key) -> Problem:
    try:
        return problem_get(key=key)
    except Problem.DoesNotExist:
        raise Http404(f"No problem {key}.") from None


# ------------------------------------------------------------------ list
def problem_list_view(request):
    _require(perms.can_view_problems(request.user), "Your account has no role yet; ask an admin.")
    filters = {
        k: request.GET.get(k, "") for k in ("q", "status", "service", "owner", "known_error", "escalated")
    }
    if "status" not in request.GET:
        filters["status"] = "open"
    sort = request.GET.get("sort", "newest")
    if sort not in PROBLEM_SORTS:
        sort = "newest"
    if filters["service"] and not filters["service"].isdigit():
        filters["service"] = ""
    if filters["owner"] not in ("", "none") and not filters["owner"].isdigit():
        filters["owner"] = ""
    page = Paginator(problem_sort(problem_list(filters=filters), sort), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "page": page,
        "problems": list(page.object_list),
        "filters": filters,
        "sort": sort,
        "sorts": PROBLEM_SORTS,
        "statuses": ProblemStatus.choices,
        "services": Service.objects.order_by("name").only("id", "name"),
        "owners": f.staff_users(),
        "querystring": params.urlencode(),
        "can_create": perms.can_create_problem(request.user),
        "can_report": perms.can_view_problem_report(request.user),
    }
    return render(request, "problems/list.html", context)


# ------------------------------------------------------------------ create
def _preselected(request) -> list[Incident]:
    """?incidents=1,2,3 (ids, from the queue's selection) or ?incident=INC-1042 (a key)."""
    ids = [p for p in request.GET.get("incidents", "").replace(" ", "").split(",") if p.isdigit()]
    keys = [k for k in request.GET.get("incident", "").replace(" ", "").split(",") if k]
    qs = Incident.objects.filter(pk__in=ids) if ids else Incident.objects.filter(key__in=keys)
    return list(qs.select_related("service").order_by("created_at", "pk")[:200]) if (ids or keys) else []


def problem_create_view(request):
    _require(perms.can_create_problem(request.user), "Your role cannot open problems.")
    preselected = _preselected(request) if request.method == "GET" else []
    initial = {}
    if preselected:
        first = preselected[0]
        initial = {
            "incidents": ", ".join(i.key for i in preselected),
            "title": first.title if len(preselected) == 1 else "",
            "description": first.description if len(preselected) == 1 else "",
        }
    form = f.ProblemCreateForm(request.POST or None, initial=initial)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            problem = services.problem_create(actor=request.user, **form.cleaned_data)
        except (ValidationError, DomainError) as exc:
            status = add_service_error(form, exc)
        else:
            count = problem.incidents.count()
            messages.success(
                request,
                f"{problem.key} opened"
                + (f" with {count} incident{'s' if count != 1 else ''}." if count else "."),
            )
            return redirect("problems:detail", key=problem.key)
    return render(request, "problems/form.html", {"form": form, "preselected": preselected}, status=status)


# ------------------------------------------------------------------ detail and actions
def _render_detail(request, problem, *, bound=None, status=200):
    user = request.user
    forms_ = {}
    can_edit = perms.can_edit_problem(user, problem) and problem.status != ProblemStatus.CLOSED
    if can_edit:
        forms_["edit"] = f.ProblemEditForm.for_problem(problem)
    nexts = services.allowed_next_statuses(problem.status)
    if perms.can_transition_problem(user, problem) and nexts:
        form = f.TransitionForm()
        form.fields["status"].choices = [
            (s, ProblemStatus(s).label) for s in nexts if s != ProblemStatus.RESOLVED
        ]
        if form.fields["status"].choices:
            forms_["transition"] = form
    if perms.can_link(user, problem) and problem.is_open:
        forms_["link"] = f.LinkForm()
    if bound is not None:
        forms_[bound[0]] = bound[1]
    incidents = problem_incidents(problem)
    open_incidents = [i for i in incidents if i.is_open]
    card = problem.card
    context = {
        "problem": problem,
        "incidents": incidents,
        "open_count": len(open_incidents),
        "customer_count": len({i.customer_id for i in incidents if i.customer_id}),
        "waiting_customers": len({i.customer_id for i in open_incidents if i.customer_id}),
        "timeline": problem_timeline_labelled(problem),
        "forms": forms_,
        "open_action": bound[0] if bound else "",
        "card_open": services.links.card_is_open(card) if card else False,
        "can_escalate": problem.is_open
        and perms.can_escalate_problem(user, problem)
        and not (card and services.links.card_is_open(card)),
        "can_resolve": problem.status
        in (ProblemStatus.NEW, ProblemStatus.INVESTIGATING, ProblemStatus.KNOWN_ERROR)
        and perms.can_resolve_incidents(user, problem),
        "can_resolve_incidents": problem.status == ProblemStatus.RESOLVED
        and open_incidents
        and perms.can_resolve_incidents(user, problem),
        "can_unlink": perms.can_link(user, problem) and problem.is_open,
        "can_article": _can_write_article(user, problem),
    }
    return render(request, "problems/detail.html", context, status=status)


def problem_detail(request, key):
    _require(perms.can_view_problems(request.user), "Your account has no role yet; ask an admin.")
    return _render_detail(request, _problem(key))


def _done(request, problem, text, anchor=""):
    messages.success(request, text)
    return redirect(reverse("problems:detail", kwargs={"key": problem.key}) + anchor)


@require_POST
def problem_edit(request, key):
    problem = _problem(key)
    _require(perms.can_edit_problem(request.user, problem), "You cannot edit this problem.")
    form = f.ProblemEditForm(request.POST)
    status = 400
    if form.is_valid():
        values = dict(form.cleaned_data)
        version = values.pop("version")
        try:
            services.problem_update(problem=problem, actor=request.user, expected_version=version, **values)
        except (ValidationError, DomainError) as exc:
            status = add_service_error(form, exc)
        else:
            return _done(request, problem, f"Saved {problem.key}.")
    return _render_detail(request, problem, bound=("edit", form), status=status)


@require_POST
def problem_transition_view(request, key):
    problem = _problem(key)
    _require(perms.can_transition_problem(request.user, problem), "You cannot change this problem's status.")
    form = f.TransitionForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            problem = services.problem_transition(
                problem=problem,
                actor=request.user,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
            )
        except (ValidationError, DomainError) as exc:
            status = add_service_error(form, exc)
        else:
            return _done(request, problem, f"{problem.key} is now {problem.get_status_display().lower()}.")
    return _render_detail(request, problem, bound=("transition", form), status=status)


def _link_summary(result) -> str:
    parts = []
    if result.linked:
        parts.append(f"Linked {', '.join(i.key for i in result.linked)}.")
    if result.escalated:
        parts.append(f"{', '.join(i.key for i in result.escalated)} now wait on {result.problem.card.key}.")
    if result.already:
        parts.append(f"Already linked: {', '.join(i.key for i in result.already)}.")
    return " ".join(parts)


def _report_refusals(request, result):
    for reason in [*result.refused.values(), *result.not_escalated.values()]:
        messages.warning(request, reason)


@require_POST
def problem_link(request, key):
    problem = _problem(key)
    _require(perms.can_link(request.user, problem), "You cannot link incidents to problems.")
    form = f.LinkForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            result = services.problem_link_incidents(
                problem=problem, incidents=form.cleaned_data["incidents"], actor=request.user
            )
        except (ValidationError, DomainError) as exc:
            status = add_service_error(form, exc)
        else:
            _report_refusals(request, result)
            if result.linked or result.already:
                messages.success(request, _link_summary(result))
            return redirect(reverse("problems:detail", kwargs={"key": problem.key}) + "#incidents")
    return _render_detail(request, problem, bound=("link", form), status=status)


@require_POST
def problem_unlink(request, key, incident_key):
    problem = _problem(key)
    _require(perms.can_link(request.user, problem), "You cannot unlink incidents.")
    incident = get_object_or_404(Incident, key=incident_key)
    try:
        services.problem_unlink_incident(problem=problem, incident=incident, actor=request.user)
    except (ValidationError, DomainError) as exc:
        messages.error(request, service_error_text(exc))
    else:
        messages.success(request, f"{incident.key} is no longer linked to {problem.key}.")
    return redirect(reverse("problems:detail", kwargs={"key": problem.key}) + "#incidents")


# ------------------------------------------------------------------ escalate to development
def _escalation_team(problem):
    if problem.service and problem.service.team_id:
        return problem.service.team
    incident = (
        Incident.objects.filter(problem_link__problem=problem, service__team__isnull=False)
        .select_related("service__team")
        .first()
    )
    return incident.service.team if incident else None


def _escalation_preview(form, problem, user):
    if not form.is_valid():
        return None, None
    try:
        return services.problem_escalation_preview(problem=problem, actor=user, **form.service_kwargs()), None
    except (ValidationError, DomainError) as exc:
        probe = f.EscalateProblemForm(form.data, team=_escalation_team(problem))
        probe.is_valid()
        add_service_error(probe, exc)
        return None, probe


def problem_escalate(request, key):
    problem = _problem(key)
    _require(perms.can_escalate_problem(request.user, problem), "Your role does not escalate to development.")
    team = _escalation_team(problem)
    open_incidents = services.open_incidents_of(problem)
    context = {
        "problem": problem,
        "open_incidents": open_incidents,
        "priority": services.lead_priority(problem, open_incidents),
    }
    if request.method == "POST":
        form = f.EscalateProblemForm(request.POST, team=team)
        status = 400
        if form.is_valid():
            try:
                result = services.problem_escalate_to_development(
                    problem=problem, actor=request.user, **form.service_kwargs()
                )
            except (ValidationError, DomainError) as exc:
                status = add_service_error(form, exc)
            else:
                for reason in result.skipped.values():
                    messages.warning(request, reason)
                n = len(result.escalated)
                messages.success(
                    request,
                    f"{problem.key} is with development as {result.card.key}; "
                    f"{n} incident{'s' if n != 1 else ''} wait{'s' if n == 1 else ''} on it.",
                )
                return redirect("problems:detail", key=problem.key)
        return render(request, "problems/escalate.html", {**context, "form": form}, status=status)
    form = f.EscalateProblemForm({"team": team.pk} if team else None, team=team)
    preview, trouble = _escalation_preview(form, problem, request.user)
    return render(
        request,
        "problems/escalate.html",
        {**context, "form": form, "preview": preview, "problem_form": trouble},
    )


@require_GET
def problem_escalate_preview(request, key):
    """htmx: the impact panel for the escalation form's current values."""
    problem = _problem(key)
    _require(perms.can_escalate_problem(request.user, problem))
    form = f.EscalateProblemForm(request.GET, team=_escalation_team(problem))
    preview, trouble = _escalation_preview(form, problem, request.user)
    if trouble is None and not form.is_valid():
        trouble = form
    return render(request, "escalation/_impact.html", {"preview": preview, "problem": trouble})


# ------------------------------------------------------------------ resolve, with the incidents
def problem_resolve(request, key):
    """Resolve the problem and, on the same confirmation, its open incidents (all ticked by
    default), each in its own transaction; a summary of what was done and refused."""
    problem = _problem(key)
    _require(perms.can_resolve_incidents(request.user, problem), "You cannot resolve this problem.")
    open_incidents = [i for i in problem_incidents(problem) if i.is_open]
    resolving_problem = problem.status != ProblemStatus.RESOLVED
    if not resolving_problem and not open_incidents:
        messages.info(request, f"{problem.key} is resolved and none of its incidents is open.")
        return redirect("problems:detail", key=problem.key)
    if problem.status == ProblemStatus.CLOSED:
        raise Http404("A closed problem is not resolved again.")
    initial = {
        "root_cause": problem.root_cause,
        "incidents": [i.pk for i in open_incidents],
        "resolution_code": "fixed" if problem.card_id else ("workaround" if problem.workaround else "fixed"),
        "note": f"Resolved with {problem.key}: {problem.root_cause}".strip().rstrip(":")
        if problem.root_cause
        else "",
    }
    form = f.ResolveForm(request.POST or None, initial=initial, open_incidents=open_incidents)
    if not resolving_problem:
        form.fields["root_cause"].required = False
    status = 200
    outcome = None
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                if resolving_problem:
                    problem = services.problem_transition(
                        problem=problem,
                        actor=request.user,
                        status=ProblemStatus.RESOLVED,
                        root_cause=data["root_cause"],
                    )
                outcome = services.problem_resolve_incidents(
                    problem=problem,
                    incidents=list(data["incidents"]),
                    actor=request.user,
                    resolution_code=data["resolution_code"],
                    note=data["note"],
                )
            except (ValidationError, DomainError) as exc:
                status = add_service_error(form, exc)
            else:
                n = len(outcome.done)
                text = (f"{problem.key} resolved. " if resolving_problem else "") + (
                    f"{n} incident{'s' if n != 1 else ''} resolved; each requester is told by e-mail."
                    if n
                    else "No incident resolved."
                )
                messages.success(request, text)
                for reason in outcome.refused.values():
                    messages.warning(request, reason)
                return redirect(reverse("problems:detail", kwargs={"key": problem.key}) + "#incidents")
    context = {
        "problem": problem,
        "form": form,
        "open_incidents": open_incidents,
        "resolving_problem": resolving_problem,
    }
    return render(request, "problems/resolve.html", context, status=status)


# ------------------------------------------------------------------ known error -> article
def _can_write_article(user, problem) -> bool:
    return bool(problem.workaround) and can_create_article(user)


@require_POST
def problem_article(request, key):
    """A known error's workaround becomes an internal article of the problem's service, in one step."""
    problem = _problem(key)
    if not problem.workaround:
        raise Http404("No workaround to publish.")
    _require(can_create_article(request.user), "Your role cannot write knowledge articles.")
    body = f"{problem.workaround}\n\n---\n\nKnown error {problem.key}: {problem.title}."
    if problem.root_cause:
        body += f"\n\nRoot cause: {problem.root_cause}"
    try:
        article = article_create(
            actor=request.user,
            title=f"Workaround: {problem.title}"[:200],
            body=body,
            service=problem.service,
            source_problem_id=problem.pk,
        )
    except (ValidationError, DomainError) as exc:
        messages.error(request, service_error_text(exc))
        return redirect("problems:detail", key=problem.key)
    services.problem_note_article(problem=problem, actor=request.user, article=article.key)
    messages.success(request, f"The workaround is now the internal article {article.key}; publish it there.")
    return redirect("knowledge:detail", key=article.key)


# ------------------------------------------------------------------ from an incident's page
@require_POST
def incident_link(request, incident_key):
    """The incident page's "Link to a problem" form."""
    incident = get_object_or_404(Incident, key=incident_key)
    form = f.LinkToProblemForm(request.POST, prefix="problem")
    back = reverse("incidents:detail", kwargs={"key": incident.key})
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect(back + "#problem")
    problem = form.cleaned_data["problem"]
    _require(perms.can_link(request.user, problem), "You cannot link incidents to problems.")
    try:
        result = services.problem_link_incidents(problem=problem, incidents=[incident], actor=request.user)
    except (ValidationError, DomainError) as exc:
        messages.error(request, service_error_text(exc))
    else:
        _report_refusals(request, result)
        if result.linked:
            messages.success(request, f"{incident.key} is linked to {problem.key}.")
    return redirect(back + "#problem")


# ------------------------------------------------------------------ the log form's suggestions
@require_GET
def suggestions(request):
    """htmx: known errors and open incidents that look like the incident being logged."""
    _require(can_create_incident(request.user))
    service = request.GET.get("service", "")
    found = similar_to(
        service_id=int(service) if service.isdigit() else None,
        title=request.GET.get("title", "")[:200],
        description=request.GET.get("description", "")[:2000],
    )
    chosen = request.GET.get("problem", "")
    return render(
        request,
        "problems/_suggestions.html",
        {**found, "chosen": chosen, "can_link": perms.can_create_problem(request.user)},
    )


# ------------------------------------------------------------------ managers
def problem_report_view(request):
    _require(perms.can_view_problem_report(request.user), "The problem report is for managers.")
    status = request.GET.get("status", "open")
    if status not in ("open", "all", *ProblemStatus.values):
        status = "open"
    sort = request.GET.get("sort", "incidents")
    if sort not in REPORT_SORTS:
        sort = "incidents"
    service = request.GET.get("service", "")
    rows = problem_report(status=status, service=int(service) if service.isdigit() else None, sort=sort)
    context = {
        "rows": rows,
        "status": status,
        "sort": sort,
        "sorts": REPORT_SORTS,
        "service": service,
        "services": Service.objects.order_by("name").only("id", "name"),
        "statuses": ProblemStatus.choices,
    }
    return render(request, "problems/report.html", context)

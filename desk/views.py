"""Browser side of the desk: the queue's saved views and bulk bar (through the incidents
queue's `queue_extras` port), the views page, and the bulk action with its summary.

Every write calls desk.services after asking desk.permissions, as the API does.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from accounts.roles import Role, has_role
from incidents.hooks import QueueExtra
from incidents.models import Incident
from problems import permissions as problem_perms
from problems.models import OPEN_PROBLEM_STATUSES, Problem
from tracker.forms import add_service_error, message_service_error

from . import permissions as perms
from . import services
from .forms import BulkForm, SavedViewEditForm, SaveViewForm, share_choices
from .models import SavedView
from .selectors import queue_views, saved_view_list, saved_view_url

BULK_FORM_ID = "bulk-form"
# Query parameters of the queue that are not filters: the page number, the open view.
NOT_SAVED = ("page", "view")
# The last bulk summaries kept in the session, for their summary pages.
SUMMARIES_KEPT = 5


def _queue_url(next_url: str | None, request: HttpRequest) -> str:
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        return next_url
    return reverse("incidents:queue")


def _saved_query(query: QueryDict) -> dict[str, str]:
    return {k: str(v) for k, v in query.items() if k not in NOT_SAVED and v}


def _open_problems() -> list[Problem]:
    """The problems the bulk bar offers to link to: those still being worked, newest first."""
    return list(
        Problem.objects.filter(status__in=OPEN_PROBLEM_STATUSES).only("key", "title").order_by("-pk")[:200]
    )


def _assignees() -> list[User]:
    return list(
        User.objects.filter(teams__isnull=False, is_active=True).distinct().order_by("first_name", "username")
    )


# ------------------------------------------------------------------ the queue's extras
def queue_extras(*, request: HttpRequest, query: QueryDict) -> QueueExtra | None:
    """The saved views (mine, my teams'), "Save this view" and the bulk bar on the queue.
    A fixed number of queries: teams, views, the people to assign to."""
    user = request.user
    if not perms.can_use_saved_views(user):
        return None
    assert isinstance(user, User)
    views = queue_views(user=user)
    current_query = _saved_query(query)
    raw_view = request.GET.get("view", "")
    current = views.find(int(raw_view)) if raw_view.isdigit() else None
    here = request.get_full_path()
    save_form = SaveViewForm(
        initial={"query": _encode(current_query), "next": here},
        teams=share_choices(user, manager=has_role(user, Role.MANAGER)),
        auto_id="save_%s",
    )
    context: dict[str, Any] = {
        "views": views,
        "current": current,
        "current_url": saved_view_url(current) if current else "",
        "modified": current is not None and current.query != current_query,
        "can_update_current": current is not None and perms.can_edit_saved_view(user, current),
        "own": [{"view": v, "url": saved_view_url(v)} for v in views.own],
        "shared": [{"view": v, "url": saved_view_url(v)} for v in views.shared],
        "save_form": save_form,
        "encoded_query": _encode(current_query),
    }
    select_form = ""
    if perms.can_act_in_bulk(user):
        select_form = BULK_FORM_ID
        context["bulk_form"] = BulkForm(
            initial={"next": here},
            assignees=_assignees(),
            problems=_open_problems(),
            auto_id="bulk_%s",
        )
        context["can_create_problem"] = problem_perms.can_create_problem(user)
        context["bulk_form_id"] = BULK_FORM_ID
    return QueueExtra(
        template="desk/_queue_extras.html",
        context=context,
        select_form=select_form,
        keep_params={"view": str(current.pk)} if current else {},
    )


def _encode(query: dict[str, str]) -> str:
    data = QueryDict(mutable=True)
    data.update(query)
    return data.urlencode()


# ------------------------------------------------------------------ saved views
def _require_views(user: Any) -> User:
    if not perms.can_use_saved_views(user):
        raise PermissionDenied("Your account has no role yet; ask an admin.")
    assert isinstance(user, User)
    return user


def _visible_view(user: User, pk: int) -> SavedView:
    # Someone else's personal view is not disclosed: 404, as for one that does not exist.
    return get_object_or_404(saved_view_list(user=user), pk=pk)


def _editable_view(user: User, pk: int) -> SavedView:
    view = _visible_view(user, pk)
    if not perms.can_edit_saved_view(user, view):
        raise PermissionDenied("Only the view's owner or a manager can change a shared view.")
    return view


def _query_of(encoded: str) -> dict[str, str]:
    return _saved_query(QueryDict(encoded or ""))


@require_POST
def view_create(request: HttpRequest) -> HttpResponse:
    """'Save this view' (or 'Save as new') from the queue."""
    user = _require_views(request.user)
    form = SaveViewForm(request.POST, teams=share_choices(user, manager=has_role(user, Role.MANAGER)))
    status = 400
    if form.is_valid():
        try:
            view = services.saved_view_create(
                actor=user,
                name=form.cleaned_data["name"],
                query=_query_of(form.cleaned_data["query"]),
                team=form.cleaned_data["team"],
            )
        except ValidationError as exc:
            status = add_service_error(form, exc)
        else:
            shared = f", shared with {view.team}" if view.team else ""
            messages.success(request, f"Saved the view “{view.name}”{shared}.")
            return redirect(saved_view_url(view))
    context = {"form": form, "back": _queue_url(form.data.get("next"), request)}
    return render(request, "desk/save_view.html", context, status=status)


@require_POST
def view_update_query(request: HttpRequest, pk: int) -> HttpResponse:
    """'Update “name”': the open view takes the queue's current filters."""
    user = _require_views(request.user)
    view = _editable_view(user, pk)
    try:
        view = services.saved_view_update(
            view=view, actor=user, query=_query_of(request.POST.get("query", ""))
        )
    except ValidationError as exc:
        message_service_error(request, exc)
        return redirect(_queue_url(request.POST.get("next"), request))
    messages.success(request, f"Updated the view “{view.name}” with these filters.")
    return redirect(saved_view_url(view))


@require_GET
def view_list(request: HttpRequest) -> HttpResponse:
    """The views page: rename, share or unshare, delete."""
    user = _require_views(request.user)
    return _render_list(request, user)


def _render_list(
    request: HttpRequest, user: User, *, bound: tuple[int, SavedViewEditForm] | None = None, status: int = 200
) -> HttpResponse:
    """Fixed queries whatever the number of views: the views, and the teams to share with
    (each row's team choices are built from that one list, not a query per row)."""
    teams = list(share_choices(user, manager=has_role(user, Role.MANAGER)))
    rows = []
    for view in saved_view_list(user=user):
        editable = perms.can_edit_saved_view(user, view)
        choices = teams if view.team is None or view.team in teams else [*teams, view.team]
        form = bound[1] if bound and bound[0] == view.pk else None
        rows.append(
            {
                "view": view,
                "url": saved_view_url(view),
                "editable": editable,
                "mine": view.owner_id == user.pk,
                "form": form,
                "name": form.data.get("name", view.name) if form else view.name,
                "team_id": str(form.data.get("team", "")) if form else str(view.team_id or ""),
                "teams": choices,
            }
        )
    return render(request, "desk/views.html", {"rows": rows}, status=status)


@require_POST
def view_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _require_views(request.user)
    view = _editable_view(user, pk)
    manager = has_role(user, Role.MANAGER)
    form = SavedViewEditForm(
        request.POST,
        teams=share_choices(user, include=view.team, manager=manager),
        auto_id=f"v{view.pk}_%s",
    )
    status = 400
    if form.is_valid():
        try:
            view = services.saved_view_update(
                view=view, actor=user, name=form.cleaned_data["name"], team=form.cleaned_data["team"]
            )
        except ValidationError as exc:
            status = add_service_error(form, exc)
        else:
            shared = f"shared with {view.team}" if view.team else "personal"
            messages.success(request, f"Saved “{view.name}” ({shared}).")
            return redirect("desk:views")
    return _render_list(request, user, bound=(view.pk, form), status=status)


@require_POST
def view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = _require_views(request.user)
    view = _editable_view(user, pk)
    services.saved_view_delete(view=view, actor=user)
    messages.success(request, f"Deleted the view “{view.name}”.")
    return redirect("desk:views")


# ------------------------------------------------------------------ bulk actions
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Run the bulk bar's action on the selected incidents; show what was done and refused."""
    user = request.user
    if not perms.can_act_in_bulk(user):
        raise PermissionDenied("Your role cannot act on incidents.")
    assert isinstance(user, User)
    if "create_problem" in request.POST:
        return _create_problem_from(request)
    form = BulkForm(request.POST, assignees=_assignees(), problems=_open_problems())
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        picked: dict[int, int | None] = data["incidents"]
        try:
            result = services.incidents_bulk_act(
                actor=user,
                action=data["action"],
                incidents=list(picked),
                data=_bulk_input(user, data),
                versions={pk: v for pk, v in picked.items() if v is not None},
            )
        except ValidationError as exc:
            status = add_service_error(form, exc)
        else:
            token = _keep_summary(request, result.as_dict(), back=_queue_url(data.get("next"), request))
            return redirect("desk:bulk_summary", token=token)
    selected = _selected_incidents(form)
    context = {"form": form, "selected": selected, "back": _queue_url(form.data.get("next"), request)}
    return render(request, "desk/bulk_form.html", context, status=status)


def _bulk_input(user: User, data: dict[str, Any]) -> services.BulkInput:
    assignee: User | None = None
    if data.get("assignee") == "me":
        assignee = user
    elif (data.get("assignee") or "").isdigit():
        assignee = User.objects.get(pk=int(data["assignee"]))
    status = data.get("status") or ""
    reason = data.get("hold_reason") if status == "on_hold" else data.get("cancel_reason")
    return services.BulkInput(
        assignee=assignee,
        status=status,
        reason=reason or "",
        resolution_code=data.get("resolution_code") or "",
        note=data.get("note") or "",
        problem=Problem.objects.filter(pk=int(data["problem"])).first()
        if (data.get("problem") or "").isdigit()
        else None,
    )


def _create_problem_from(request: HttpRequest) -> HttpResponse:
    """ "Create a problem from selected": the problems app's form, the selection preselected."""
    if not problem_perms.can_create_problem(request.user):
        raise PermissionDenied("Your role cannot open problems.")
    ids = [v.partition(":")[0] for v in request.POST.getlist("incidents")]
    ids = [i for i in ids if i.isdigit()][: services.MAX_INCIDENTS]
    if not ids:
        messages.error(request, "Select the incidents the problem groups first.")
        return redirect(_queue_url(request.POST.get("next"), request))
    return redirect(reverse("problems:create") + "?incidents=" + ",".join(ids))


def _selected_incidents(form: BulkForm) -> list[dict[str, Any]]:
    """The boxes ticked in the queue, shown again (still ticked) on the fix-and-retry page."""
    values = form.picked_values()
    ids = [int(v.partition(":")[0]) for v in values if v.partition(":")[0].isdigit()]
    found = Incident.objects.filter(pk__in=ids).only("key", "title", "status").in_bulk()
    return [
        {"value": v, "incident": found.get(int(v.partition(":")[0]))}
        for v in values
        if v.partition(":")[0].isdigit()
    ]


def _keep_summary(request: HttpRequest, summary: dict[str, Any], *, back: str) -> str:
    token = secrets.token_urlsafe(8)
    kept = dict(request.session.get("desk_bulk", {}))
    kept[token] = {**summary, "back": back}
    request.session["desk_bulk"] = dict(list(kept.items())[-SUMMARIES_KEPT:])
    return token


@require_GET
def bulk_summary(request: HttpRequest, token: str) -> HttpResponse:
    if not perms.can_act_in_bulk(request.user):
        raise PermissionDenied("Your role cannot act on incidents.")
    summary = request.session.get("desk_bulk", {}).get(token)
    if summary is None:
        raise Http404("That summary is gone (summaries are kept for your last few bulk actions).")
    refused = [
        # The key is shown as a link; the rest of the reason follows it.
        {
            **r,
            "rest": r["detail"][len(r["key"]) :]
            if r["key"] and r["detail"].startswith(r["key"])
            else f": {r['detail']}",
        }
        for r in summary["refused"]
    ]
    summary = {
        **summary,
        "refused": refused,
        "label": services.ACTION_LABELS.get(summary["action"], summary["action"]),
    }
    return render(request, "desk/bulk_summary.html", {"summary": summary})

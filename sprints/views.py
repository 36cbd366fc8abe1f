"""Sprint pages: list, plan, detail with the live capacity panel, team delivery settings.

Views parse input, ask the permission predicates and call the services; the rules live in
sprints.services.
"""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from boards.models import Card
from org.models import Team
from tracker.exceptions import DomainError, status_for
from tracker.forms import add_service_error, message_service_error, service_error_text

from . import permissions as perms
from . import selectors, services
from .forms import MemberForm, SprintCloseForm, SprintEditForm, SprintForm, TeamSettingsForm
from .models import Sprint, SprintMember, SprintState


def _require(allowed: bool):
    if not allowed:
        raise PermissionDenied


def _sprint(pk) -> Sprint:
    try:
        return selectors.sprint_get(pk)
    except Sprint.DoesNotExist:
        raise Http404("No such sprint.") from None


def _chart_data(sprint, history):
    burndown = selectors.sprint_burndown(sprint)
    return {
        "unit": sprint.team.capacity_unit,
        "burndown": [
            {
                "day": p["day"],
                "ideal": float(p["ideal"]),
                "actual": None if p["actual"] is None else float(p["actual"]),
            }
            for p in burndown
        ],
        "history": [
            {
                "name": h["name"],
                "committed": float(h["committed"]),
                "velocity": float(h["velocity"]),
                "capacity": float(h["capacity"]),
                "planned": float(h["planned"]),
                "unplanned": float(h["unplanned"]),
                "by_source": {k: float(v) for k, v in h["by_source"].items()},
                "support_share": float(h["support_share"]),
            }
            for h in history
        ],
        "source_labels": {k: str(v) for k, v in selectors.SOURCE_LABELS.items()},
    }


# ------------------------------------------------------------------ list and create
@require_GET
def sprint_list(request):
    _require(perms.can_read_sprints(request.user))
    teams = list(Team.objects.filter(is_development=True).order_by("name"))
    team_id = request.GET.get("team")
    team = next((t for t in teams if str(t.pk) == team_id), None)
    sprints = list(selectors.sprint_list(team=team))
    return render(
        request,
        "sprints/list.html",
        {
            "teams": teams,
            "team": team,
            "active": [s for s in sprints if s.state == SprintState.ACTIVE],
            "planning": [s for s in sprints if s.state == SprintState.PLANNING],
            "closed": [s for s in sprints if s.state == SprintState.CLOSED][:30],
            "can_plan": perms.can_plan_sprint(request.user),
            "can_edit_team": perms.can_edit_team_settings(request.user),
        },
    )


def sprint_create(request):
    _require(perms.can_plan_sprint(request.user))
    status = 200
    if request.method == "POST":
        form = SprintForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                sprint = services.sprint_create(actor=request.user, **form.cleaned_data)
            except (ValidationError, DomainError) as exc:
                status = add_service_error(form, exc)
            else:
                messages.success(request, f"{sprint.name} created; plan it now.")
                return redirect("sprints:plan", pk=sprint.pk)
    else:
        form = SprintForm(initial={"team": request.GET.get("team")})
    return render(request, "sprints/form.html", {"form": form, "title": "New sprint"}, status=status)


def sprint_edit(request, pk):
    sprint = _sprint(pk)
    _require(perms.can_plan_sprint(request.user, sprint))
    status = 200
    if request.method == "POST":
        form = SprintEditForm(request.POST, sprint=sprint)
        status = 400
        if form.is_valid():
            try:
                services.sprint_update(sprint=sprint, actor=request.user, **form.cleaned_data)
            except (ValidationError, DomainError) as exc:
                status = add_service_error(form, exc)
            else:
                messages.success(request, "Sprint saved.")
                return redirect("sprints:detail", pk=sprint.pk)
    else:
        form = SprintEditForm(
            sprint=sprint,
            initial={
                "name": sprint.name,
                "goal": sprint.goal,
                "start": sprint.start,
                "end": sprint.end,
                "board": sprint.board_id,
                "support_member": sprint.support_member_id,
            },
        )
    return render(
        request,
        "sprints/form.html",
        {"form": form, "title": f"Edit {sprint.name}", "sprint": sprint},
        status=status,
    )


# ------------------------------------------------------------------ detail and panel
def _card_rows(cards):
    return [
        {
            "pk": c.pk,
            "estimate": c.estimate,
            "backlog_rank": c.backlog_rank,
            "column__category": c.column.category,
        }
        for c in cards
    ]


@require_GET
def sprint_detail(request, pk):
    _require(perms.can_read_sprints(request.user))
    sprint = _sprint(pk)
    members = selectors.sprint_members(sprint)
    cards = selectors.sprint_cards(sprint)
    panel = selectors.sprint_panel(sprint, members=members, cards=_card_rows(cards))
    at_risk = set(panel.panel.at_risk)
    history = selectors.team_history(sprint.team)
    can_plan = perms.can_plan_sprint(request.user, sprint)
    close_form = None
    if can_plan and sprint.state == SprintState.ACTIVE:
        close_form = SprintCloseForm(
            sprint=sprint, choices=selectors.open_sprints_for_team(sprint.team_id, exclude=sprint)
        )
    return render(
        request,
        "sprints/detail.html",
        {
            "sprint": sprint,
            "members": [
                {
                    "member": m,
                    "can_edit": sprint.state != SprintState.CLOSED
                    and perms.can_edit_availability(request.user, m),
                }
                for m in members
            ],
            "cards": [{"card": c, "at_risk": c.pk in at_risk} for c in cards],
            "view": panel,
            "at_risk_cards": [c for c in cards if c.pk in at_risk],
            "scope_changes": selectors.scope_changes(sprint),
            "carry_overs": selectors.sprint_carry_overs(sprint),
            "rotation": services.support_rotation_forecast(sprint.team),
            "chart_data": _chart_data(sprint, history),
            "history": history,
            "can_plan": can_plan,
            "close_form": close_form,
        },
    )


@require_GET
def sprint_capacity(request, pk):
    """The capacity panel alone, for htmx to refresh in place."""
    _require(perms.can_read_sprints(request.user))
    sprint = _sprint(pk)
    view = selectors.sprint_panel(sprint)
    at_risk_cards = list(
        Card.objects.filter(pk__in=view.panel.at_risk).only("pk", "key", "title", "estimate")
    )
    order = {pk: i for i, pk in enumerate(view.panel.at_risk)}
    at_risk_cards.sort(key=lambda c: order[c.pk])
    return render(
        request, "sprints/_panel.html", {"sprint": sprint, "view": view, "at_risk_cards": at_risk_cards}
    )


# ------------------------------------------------------------------ lifecycle
# Starting and closing ask first: GET shows what will happen (and what is risky), the
# page's button POSTs with confirm=1. The service refuses a risky start or close that is
# not confirmed, whatever the entry point.
def _run_confirmed(request, sprint, action, done: str):
    """Run a start or close the user confirmed (or not): a redirect when it ran or was refused,
    or the status the confirmation page answers with when the service still asks first."""
    try:
        action(confirm=request.POST.get("confirm") == "1")
    except services.ConfirmationRequired as exc:
        messages.warning(request, exc.detail)
        return None, status_for(exc)
    except (ValidationError, DomainError) as exc:
        message_service_error(request, exc)
    else:
        messages.success(request, done)
    return redirect("sprints:detail", pk=sprint.pk), None


@require_http_methods(["GET", "POST"])
def sprint_start(request, pk):
    sprint = _sprint(pk)
    _require(perms.can_plan_sprint(request.user, sprint))
    status = 200
    if request.method == "POST":
        response, status = _run_confirmed(
            request,
            sprint,
            lambda confirm: services.sprint_start(sprint=sprint, actor=request.user, confirm=confirm),
            f"{sprint.name} started; the commitment is recorded.",
        )
        if response is not None:
            return response
    if sprint.state != SprintState.PLANNING:
        messages.error(request, f"{sprint.name} is {sprint.get_state_display().lower()}; it cannot start.")
        return redirect("sprints:detail", pk=sprint.pk)
    preview = services.sprint_start_preview(sprint=sprint)
    return render(
        request, "sprints/confirm_start.html", {"sprint": sprint, "preview": preview}, status=status
    )


@require_http_methods(["GET", "POST"])
def sprint_close(request, pk):
    sprint = _sprint(pk)
    _require(perms.can_plan_sprint(request.user, sprint))
    data = request.POST if request.method == "POST" else request.GET
    form = SprintCloseForm(
        data, sprint=sprint, choices=selectors.open_sprints_for_team(sprint.team_id, exclude=sprint)
    )
    if not form.is_valid():
        messages.error(request, "Choose where the unfinished cards go.")
        return redirect("sprints:detail", pk=sprint.pk)
    target = form.cleaned_data["carry_over_to"]
    status = 200
    if request.method == "POST":
        response, status = _run_confirmed(
            request,
            sprint,
            lambda confirm: services.sprint_close(
                sprint=sprint, actor=request.user, carry_over_to=target, confirm=confirm
            ),
            f"{sprint.name} closed.",
        )
        if response is not None:
            return response
    if sprint.state != SprintState.ACTIVE:
        messages.error(request, f"{sprint.name} is {sprint.get_state_display().lower()}; it cannot close.")
        return redirect("sprints:detail", pk=sprint.pk)
    preview = services.sprint_close_preview(sprint=sprint, carry_over_to=target)
    return render(
        request,
        "sprints/confirm_close.html",
        {"sprint": sprint, "preview": preview, "form": form},
        status=status,
    )


@require_POST
def member_update(request, pk, member_pk):
    sprint = _sprint(pk)
    member = get_object_or_404(
        SprintMember.objects.select_related("sprint", "user"), pk=member_pk, sprint=sprint
    )
    _require(perms.can_edit_availability(request.user, member))
    form = MemberForm(request.POST)
    if form.is_valid():
        try:
            services.sprint_member_update(member=member, actor=request.user, **form.cleaned_data)
        except (ValidationError, DomainError) as exc:
            message_service_error(request, exc)
        else:
            messages.success(request, f"Availability of {member.user.display_name} saved.")
    else:
        messages.error(
            request,
            f"{member.user.display_name}: "
            + "; ".join(f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()),
        )
    return redirect(reverse("sprints:detail", kwargs={"pk": sprint.pk}) + "#availability")


# ------------------------------------------------------------------ planning
@require_GET
def sprint_plan(request, pk):
    _require(perms.can_read_sprints(request.user))
    sprint = _sprint(pk)
    cards = selectors.sprint_cards(sprint)
    view = selectors.sprint_panel(sprint, cards=_card_rows(cards))
    line = view.panel.capacity_line
    rows, running, line_drawn = [], 0, False
    for c in cards:
        running += c.estimate or 0
        beyond = running > line
        rows.append({"card": c, "beyond": beyond, "line_before": beyond and not line_drawn})
        line_drawn = line_drawn or beyond
    return render(
        request,
        "sprints/plan.html",
        {
            "sprint": sprint,
            "rows": rows,
            "backlog": selectors.backlog_cards(sprint),
            "rotation": services.support_rotation_forecast(sprint.team),
            "view": view,
            "can_plan": perms.can_plan_sprint(request.user, sprint) and sprint.state != SprintState.CLOSED,
        },
    )


def _plan_redirect(request, sprint):
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"ok": True})
    return redirect("sprints:plan", pk=sprint.pk)


@require_POST
def plan_move(request, pk):
    """Move one card into the sprint or back to the backlog (a form button, or a drop)."""
    sprint = _sprint(pk)
    _require(perms.can_plan_sprint(request.user, sprint))
    card = get_object_or_404(Card, pk=request.POST.get("card"))
    target = sprint if request.POST.get("to") == "sprint" else None
    if target is None and card.sprint_id != sprint.pk:
        raise Http404("That card is not in this sprint.")
    try:
        services.card_plan(
            card=card,
            sprint=target,
            actor=request.user,
            reason=request.POST.get("reason", ""),
            position=request.POST.get("position", "bottom"),
        )
    except (ValidationError, DomainError) as exc:
        if request.headers.get("Accept") == "application/json":
            return JsonResponse({"detail": service_error_text(exc)}, status=status_for(exc))
        message_service_error(request, exc)
    return _plan_redirect(request, sprint)


@require_POST
def plan_reorder(request, pk):
    """Put cards in a new order: `order` is a list of card ids (drag and drop), or `card`
    with `direction` up/down (buttons)."""
    sprint = _sprint(pk)
    _require(perms.can_plan_sprint(request.user, sprint))
    if request.POST.get("direction") in ("up", "down"):
        card = get_object_or_404(Card, pk=request.POST.get("card"))
        siblings = (
            [c.pk for c in selectors.sprint_cards(sprint)]
            if card.sprint_id == sprint.pk
            else [c.pk for c in selectors.backlog_cards(sprint)]
        )
        if card.pk not in siblings:
            raise Http404("That card is not in this list.")
        i = siblings.index(card.pk)
        j = i - 1 if request.POST["direction"] == "up" else i + 1
        if 0 <= j < len(siblings):
            ids = [siblings[i], siblings[j]] if j < i else [siblings[j], siblings[i]]
        else:
            ids = []
    else:
        try:
            ids = [int(x) for x in json.loads(request.POST.get("order", "[]"))]
        except (ValueError, TypeError):
            return JsonResponse({"order": ["A list of card ids."]}, status=400)
    cards = list(Card.objects.filter(pk__in=ids, board__in=_planned_boards(sprint)))
    by_pk = {c.pk: c for c in cards}
    if len(by_pk) != len(set(ids)):
        return JsonResponse({"order": ["Unknown card."]}, status=400)
    if ids:
        try:
            services.cards_rerank(cards=[by_pk[i] for i in ids], actor=request.user)
        except ValidationError as exc:
            return JsonResponse({"order": exc.messages}, status=400)
    return _plan_redirect(request, sprint)


def _planned_boards(sprint):
    if sprint.board_id:
        return [sprint.board_id]
    return list(sprint.team.boards.values_list("pk", flat=True))


# ------------------------------------------------------------------ team settings
def team_settings(request, team_pk):
    team = get_object_or_404(Team, pk=team_pk, is_development=True)
    _require(perms.can_read_sprints(request.user))
    can_edit = perms.can_edit_team_settings(request.user, team)
    if request.method == "POST" and request.POST.get("action") == "rotation":
        _require(can_edit)
        return _rotation_save(request, team)
    if request.method == "POST":
        _require(can_edit)
        form = TeamSettingsForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                services.team_settings_update(team=team, actor=request.user, **form.service_values())
            except (ValidationError, DomainError) as exc:
                status = add_service_error(form, exc)
            else:
                messages.success(request, f"{team.name}'s settings saved.")
                return redirect("sprints:team_settings", team_pk=team.pk)
    else:
        form = TeamSettingsForm(initial=TeamSettingsForm.initial_for(team))
        status = 200
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "sprints/team_settings.html",
        {
            "team": team,
            "form": form,
            "can_edit": can_edit,
            "members": team.members.order_by("username"),
            "estimate_fields": [form[name] for name in TeamSettingsForm.PRIORITY_FIELDS],
            "rotation_order": services.rotation_order(team),
            "rotation": services.support_rotation_forecast(team, count=ROTATION_AHEAD),
        },
        status=status,
    )


ROTATION_AHEAD = 6


def _rotation_save(request, team):
    """The rotation's order: a position number per member, or one member moved up/down."""
    order = [m.pk for m in services.rotation_order(team)]
    move = request.POST.get("move", "")
    if ":" in move:
        direction, _, raw = move.partition(":")
        if raw.isdigit() and int(raw) in order and direction in ("up", "down"):
            i = order.index(int(raw))
            j = i - 1 if direction == "up" else i + 1
            if 0 <= j < len(order):
                order[i], order[j] = order[j], order[i]
    try:
        services.team_rotation_set(team=team, actor=request.user, users=order)
    except ValidationError as exc:
        message_service_error(request, exc)
    else:
        messages.success(request, f"{team.name}'s support rotation saved.")
    return redirect(reverse("sprints:team_settings", kwargs={"team_pk": team.pk}) + "#rotation")

"""The browser side of boards: the same services and permission predicates as the API."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import Role
from tracker.exceptions import DomainError, WipLimitExceeded
from tracker.forms import add_service_error, message_service_error

from . import hooks, metrics, permissions, selectors, services
from .forms import (
    BoardCreateForm,
    BoardForm,
    CardBlockForm,
    CardCreateForm,
    CardEditForm,
    CardMoveForm,
    CardPullForm,
    ColumnAddForm,
    ColumnEditForm,
    LaneAddForm,
    LaneEditForm,
    column_rows,
    filled,
    lane_rows,
)
from .models import Board, Card, CardType
from .rendering import board_grid_html


def board_reader(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not permissions.can_read_boards(request.user):
            raise PermissionDenied("You need a role to see boards.")
        return view(request, *args, **kwargs)

    return wrapped


def _require(allowed):
    if not allowed:
        raise PermissionDenied("Your role may not do this on boards.")


def _back(request, fallback):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


# ------------------------------------------------------------------ boards
@require_GET
@board_reader
def board_list(request):
    boards = selectors.board_list().order_by("name")
    return render(
        request,
        "boards/board_list.html",
        {"boards": boards, "can_create_board": permissions.can_create_board(request.user)},
    )


@require_http_methods(["GET", "POST"])
@board_reader
def board_create(request):
    """A new board: name, teams, and its columns and lanes (a usual workflow prefilled)."""
    _require(permissions.can_create_board(request.user))
    data = request.POST if request.method == "POST" else None
    form, columns, lanes = BoardCreateForm(data), column_rows(data), lane_rows(data)
    if data is not None and form.is_valid() and columns.is_valid() and lanes.is_valid():
        try:
            board = services.board_create(
                name=form.cleaned_data["name"],
                key_prefix=form.cleaned_data["key_prefix"],
                teams=list(form.cleaned_data["teams"]),
                columns=filled(columns),
                lanes=filled(lanes),
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Board “{board.name}” created.")
            return redirect("boards:detail", board.pk)
    context = {"form": form, "columns": columns, "lanes": lanes}
    return render(request, "boards/board_create.html", context, status=400 if data is not None else 200)


SETTINGS_ACTIONS = ("board", "columns", "add_column", "lanes", "add_lane")


@require_http_methods(["GET", "POST"])
@board_reader
def board_settings(request, pk):
    """Rename the board, change its teams, its columns' WIP limits and names, its lanes;
    add columns and lanes. Each section saves on its own; what failed keeps what was typed."""
    board = get_object_or_404(Board, pk=pk)
    _require(permissions.can_manage_board(request.user, board))
    action = request.POST.get("action") if request.method == "POST" else None
    if action is not None and action not in SETTINGS_ACTIONS:
        return HttpResponse("Unknown action.", status=400)
    posted = request.POST if action else None
    columns = list(board.columns.order_by("position", "id"))
    lanes = list(board.lanes.order_by("position", "id"))

    board_form = BoardForm(
        posted if action == "board" else None,
        initial={"name": board.name, "teams": list(board.teams.all())},
        board=board,
    )
    column_forms = [
        (
            c,
            ColumnEditForm(
                posted if action == "columns" else None, prefix=f"c{c.pk}", initial=model_to_dict(c)
            ),
        )
        for c in columns
    ]
    lane_forms = [
        (
            ln,
            LaneEditForm(
                posted if action == "lanes" else None, prefix=f"l{ln.pk}", initial=model_to_dict(ln)
            ),
        )
        for ln in lanes
    ]
    add_column = ColumnAddForm(posted if action == "add_column" else None, board=board, prefix="new_col")
    add_lane = LaneAddForm(posted if action == "add_lane" else None, prefix="new_lane")

    saved = action is not None and _save_settings(
        request, board, action, board_form, column_forms, lane_forms, add_column, add_lane
    )
    if saved:
        messages.success(request, saved)
        return redirect("boards:settings", board.pk)
    column_counts = {c["id"]: c for c in selectors.board_columns(board)}
    lane_counts = {ln["id"]: ln for ln in selectors.board_lanes(board)}
    context = {
        "board": board,
        "board_form": board_form,
        "add_column": add_column,
        "add_lane": add_lane,
        "column_rows": [(c, form, column_counts[c.pk]) for c, form in column_forms],
        "lane_rows": [(ln, form, lane_counts[ln.pk]) for ln, form in lane_forms],
    }
    return render(request, "boards/board_settings.html", context, status=400 if action else 200)


def _save_settings(request, board, action, board_form, column_forms, lane_forms, add_column, add_lane):
    """Run the section's service(s); a message when saved, None when a form shows errors."""
    user = request.user
    try:
        if action == "board" and board_form.is_valid():
            data = board_form.cleaned_data
            services.board_update(board=board, actor=user, name=data["name"], teams=list(data["teams"]))
            return "Board saved."
        if action == "columns" and all(form.is_valid() for _c, form in column_forms):
            return _save_rows(
                column_forms, services.column_update, "column", ("name", "wip_min", "wip_max"), user
            )
        if action == "lanes" and all(form.is_valid() for _l, form in lane_forms):
            return _save_rows(lane_forms, services.lane_update, "lane", ("name", "wip_max"), user)
        if action == "add_column" and add_column.is_valid():
            column = services.column_add(board=board, actor=user, **add_column.cleaned_data)
            return f"Column “{column.name}” added."
        if action == "add_lane" and add_lane.is_valid():
            lane = services.lane_add(board=board, actor=user, **add_lane.cleaned_data)
            return f"Lane “{lane.name}” added."
    except ValidationError as exc:
        add_service_error({"add_column": add_column, "add_lane": add_lane, "board": board_form}[action], exc)
    return None


def _save_rows(row_forms, update, kind, fields, user):
    """All rows in one transaction: a refused row saves none and shows its error."""
    try:
        with transaction.atomic():
            for obj, form in row_forms:
                try:
                    update(**{kind: obj}, actor=user, **{f: form.cleaned_data[f] for f in fields})
                except ValidationError as exc:
                    add_service_error(form, exc)
                    raise
    except ValidationError:
        return None
    return f"{kind.capitalize()}s saved."


def _filters(request):
    """Quick filters from the query string, kept only when well-formed."""
    raw = {name: request.GET.get(name, "").strip() for name in selectors.BOARD_FILTERS}
    clean = {}
    for name in ("sprint", "release", "assignee"):
        if raw[name] == "none" or raw[name].isdigit():
            clean[name] = raw[name]
    if raw["type"] in CardType.values:
        clean["type"] = raw["type"]
    if raw["blocked"] in ("yes", "no"):
        clean["blocked"] = raw["blocked"]
    return clean


def _grid(request, board, filters):
    columns = selectors.board_columns(board)
    lanes = selectors.board_lanes(board)
    cards = selectors.board_page_cards(board, filters)
    html = board_grid_html(
        columns=columns,
        lanes=lanes,
        cards=cards,
        csrf_token=get_token(request),
        can_move=permissions.can_move_card(request.user),
        can_pull=permissions.can_pull_card(request.user),
    )
    return html, len(cards)


@require_GET
@board_reader
def board_detail(request, pk):
    board = get_object_or_404(Board, pk=pk)
    filters = _filters(request)
    grid, shown = _grid(request, board, filters)
    if request.GET.get("partial") == "grid":
        response = HttpResponse(grid)
        response["X-Board-Version"] = selectors.board_version(board)
        return response
    user_model = get_user_model()
    context = {
        "board": board,
        "teams": list(board.teams.all()),
        "grid": grid,
        "shown": shown,
        "filters": filters,
        "filter_query": request.GET.urlencode(),
        "version": selectors.board_version(board),
        "active_sprint": selectors.active_sprint_support_member(board),
        "sprints": list(hooks.sprint_planning().sprints_for_board(board=board).values("id", "name", "state")),
        "releases": list(selectors.releases_for(board).values("id", "name")),
        "assignees": list(
            user_model.objects.filter(
                is_active=True, groups__name__in=[Role.DEVELOPER, Role.PRODUCT_OWNER, Role.MANAGER]
            )
            .distinct()
            .order_by("first_name", "last_name")
            .values("id", "first_name", "last_name", "username")
        ),
        "types": CardType.choices,
        "override_reasons": list(selectors.wip_override_reasons().values("id", "code", "label")),
        "can_create": permissions.can_create_card(request.user, board),
        "can_move": permissions.can_move_card(request.user),
        "can_manage": permissions.can_manage_board(request.user, board),
        "create_form": CardCreateForm(board=board),
    }
    return render(request, "boards/board_detail.html", context)


@require_GET
@board_reader
def board_version(request, pk):
    board = get_object_or_404(Board, pk=pk)
    return JsonResponse({"version": selectors.board_version(board)})


@require_GET
@board_reader
def board_metrics(request, pk):
    board = get_object_or_404(Board, pk=pk)
    try:
        days = max(7, min(int(request.GET.get("days", 42)), 365))
    except ValueError:
        days = 42
    data = metrics.board_metrics(board, days=days)
    return render(request, "boards/board_metrics.html", {"board": board, "m": data, "days": days})


# ------------------------------------------------------------------ cards
@require_POST
@board_reader
def card_create(request, pk):
    board = get_object_or_404(Board, pk=pk)
    _require(permissions.can_create_card(request.user, board))
    form = CardCreateForm(request.POST, board=board)
    status = 400
    if form.is_valid():
        try:
            card = services.card_create(
                board=board,
                title=form.cleaned_data["title"],
                type=form.cleaned_data["type"],
                lane=form.cleaned_data["lane"],
                column=form.cleaned_data["column"],
                estimate=form.cleaned_data["estimate"],
                actor=request.user,
            )
        except (ValidationError, DomainError) as exc:
            status = add_service_error(form, exc)
        else:
            messages.success(request, f"Created {card.key}.")
            return redirect(_back(request, reverse("boards:detail", args=[board.pk])))
    return render(request, "boards/card_create.html", {"board": board, "form": form}, status=status)


def _card(pk):
    return get_object_or_404(
        Card.objects.select_related(
            "board", "column", "lane", "assignee", "sprint", "release", "block_reason", "created_by"
        ),
        pk=pk,
    )


@require_http_methods(["GET", "POST"])
@board_reader
def card_detail(request, pk):
    card = _card(pk)
    status = 200
    if request.method == "POST":
        _require(permissions.can_edit_card(request.user, card))
        form = CardEditForm(request.POST, card=card)
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            reason = data.pop("reason")
            try:
                services.card_update(card=card, actor=request.user, reason=reason, **data)
            except (ValidationError, DomainError) as exc:
                status = add_service_error(form, exc)
            else:
                messages.success(request, f"Saved {card.key}.")
                return redirect("boards:card", pk=card.pk)
    else:
        form = CardEditForm(card=card)
    sla_due = (
        selectors.cards_with_sla(Card.objects.filter(pk=card.pk)).values_list("sla_due_at", flat=True).get()
    )
    incidents = selectors.card_incidents(card)
    context = {
        "card": card,
        "form": form,
        "block_form": CardBlockForm(),
        "history": selectors.card_history(card),
        "incidents": incidents,
        "waiting": selectors.card_waiting(incidents),
        "caused_incidents": selectors.card_caused_incidents(card),
        "sla_due": sla_due,
        "forecast": selectors.card_fix_forecast(card),
        "blocked_for": selectors.format_age(selectors.blocked_for(card.blocked_since)),
        "can_edit": permissions.can_edit_card(request.user, card),
        "can_pull": permissions.can_pull_card(request.user, card) and card.column.category == "ready",
    }
    return render(request, "boards/card_detail.html", context, status=status)


# A move or pull refused for WIP asks for the override next to its reason; one refused for a
# block offers the unblock box.
MOVE_REFUSAL_FIELDS = {"wip_limit_exceeded": "override_reason", "card_blocked": "unblock"}


@require_http_methods(["GET", "POST"])
@board_reader
def card_move(request, pk):
    """The keyboard- and screen-reader-friendly way to move a card (no JavaScript needed)."""
    card = _card(pk)
    _require(permissions.can_move_card(request.user, card))
    status = 200
    if request.method == "POST":
        form = CardMoveForm(request.POST, card=card)
        if form.is_valid():
            try:
                services.card_move(
                    card=card,
                    column=form.cleaned_data["column"],
                    lane=form.cleaned_data["lane"],
                    position=form.cleaned_data["position"],
                    override_reason=form.cleaned_data["override_reason"],
                    override_note=form.cleaned_data["override_note"],
                    unblock=form.cleaned_data["unblock"],
                    actor=request.user,
                )
            except (ValidationError, DomainError) as exc:
                status = add_service_error(form, exc, fields=MOVE_REFUSAL_FIELDS)
            else:
                messages.success(request, f"Moved {card.key} to {form.cleaned_data['column'].name}.")
                return redirect(_back(request, reverse("boards:detail", args=[card.board_id])))
        else:
            status = 400
    else:
        form = CardMoveForm(card=card)
    return render(request, "boards/card_move.html", {"card": card, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@board_reader
def card_pull(request, pk):
    """Pull a ready card. Refused for WIP, the page offers the same override as a move (a
    reason code and a note); the board's Pull button does this in its dialog."""
    card = _card(pk)
    _require(permissions.can_pull_card(request.user, card))
    status = 200
    form = CardPullForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.card_pull(
                    card=card,
                    actor=request.user,
                    override_reason=form.cleaned_data["override_reason"],
                    override_note=form.cleaned_data["override_note"],
                )
            except WipLimitExceeded as exc:
                status = add_service_error(form, exc, fields=MOVE_REFUSAL_FIELDS)
            except DomainError as exc:
                # Nothing on this page can answer it (the card moved on): back to the board.
                message_service_error(request, exc)
                return redirect(_back(request, reverse("boards:detail", args=[card.board_id])))
            except ValidationError as exc:
                status = add_service_error(form, exc)
            else:
                messages.success(request, f"You pulled {card.key}.")
                return redirect(_back(request, reverse("boards:detail", args=[card.board_id])))
        else:
            status = 400
    context = {"card": card, "form": form, "back": _back(request, "")}
    return render(request, "boards/card_pull.html", context, status=status)


@require_POST
@board_reader
def card_block(request, pk):
    card = _card(pk)
    _require(permissions.can_block_card(request.user, card))
    form = CardBlockForm(request.POST)
    if form.is_valid():
        try:
            services.card_block(
                card=card,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except (ValidationError, DomainError) as exc:
            message_service_error(request, exc)
        else:
            messages.success(request, f"{card.key} is blocked: {form.cleaned_data['reason']}.")
    else:
        messages.error(request, "Choose a block reason.")
    return redirect("boards:card", pk=card.pk)


@require_POST
@board_reader
def card_unblock(request, pk):
    card = _card(pk)
    _require(permissions.can_block_card(request.user, card))
    try:
        services.card_unblock(card=card, actor=request.user)
    except DomainError as exc:
        message_service_error(request, exc)
    else:
        messages.success(request, f"{card.key} is unblocked.")
    return redirect("boards:card", pk=card.pk)


@require_POST
@board_reader
def card_cancel(request, pk):
    card = _card(pk)
    _require(permissions.can_edit_card(request.user, card))
    try:
        services.card_cancel(card=card, actor=request.user, reason=request.POST.get("reason", ""))
    except (ValidationError, DomainError) as exc:
        message_service_error(request, exc)
    else:
        messages.success(request, f"{card.key} is cancelled; linked incidents are back with support.")
    return redirect("boards:card", pk=card.pk)

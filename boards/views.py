"""The browser side of boards: the same services and permission predicates as the API."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import Role
from tracker.exceptions import DomainError, WipLimitExceeded
from tracker.forms import add_service_error

from . import metrics, permissions, selectors, services
from .forms import CardBlockForm, CardCreateForm, CardEditForm, CardMoveForm
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
    return render(request, "boards/board_list.html", {"boards": boards})


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
    from sprints.models import Sprint

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
        "sprints": list(Sprint.objects.filter(board=board).order_by("-start").values("id", "name", "state")),
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
            add_service_error(form, exc)
        else:
            messages.success(request, f"Created {card.key}.")
            return redirect(_back(request, reverse("boards:detail", args=[board.pk])))
    return render(request, "boards/card_create.html", {"board": board, "form": form}, status=400)


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
        if form.is_valid():
            data = dict(form.cleaned_data)
            reason = data.pop("reason")
            try:
                services.card_update(card=card, actor=request.user, reason=reason, **data)
            except (ValidationError, DomainError) as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, f"Saved {card.key}.")
                return redirect("boards:card", pk=card.pk)
        status = 400
    else:
        form = CardEditForm(card=card)
    sla_due = (
        selectors.cards_with_sla(Card.objects.filter(pk=card.pk)).values_list("sla_due_at", flat=True).get()
    )
    context = {
        "card": card,
        "form": form,
        "block_form": CardBlockForm(),
        "history": selectors.card_history(card),
        "incidents": list(card.incidents.order_by("id").values("id", "key", "title", "status", "priority")),
        "sla_due": sla_due,
        "blocked_for": selectors.format_age(selectors.blocked_for(card.blocked_since)),
        "can_edit": permissions.can_edit_card(request.user, card),
        "can_pull": permissions.can_pull_card(request.user, card) and card.column.category == "ready",
    }
    return render(request, "boards/card_detail.html", context, status=status)


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
                    actor=request.user,
                )
            except WipLimitExceeded as exc:
                form.add_error("override_reason", exc.detail)
                status = 409
            except (ValidationError, DomainError) as exc:
                add_service_error(form, exc)
                status = 409 if isinstance(exc, DomainError) else 400
            else:
                messages.success(request, f"Moved {card.key} to {form.cleaned_data['column'].name}.")
                return redirect(_back(request, reverse("boards:detail", args=[card.board_id])))
        else:
            status = 400
    else:
        form = CardMoveForm(card=card)
    return render(request, "boards/card_move.html", {"card": card, "form": form}, status=status)


@require_POST
@board_reader
def card_pull(request, pk):
    card = _card(pk)
    _require(permissions.can_pull_card(request.user, card))
    try:
        services.card_pull(card=card, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"You pulled {card.key}.")
    return redirect(_back(request, reverse("boards:detail", args=[card.board_id])))


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
            messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
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
        messages.error(request, exc.detail)
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
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, f"{card.key} is cancelled; linked incidents are back with support.")
    return redirect("boards:card", pk=card.pk)

"""The browser side of releases: the list, a release's contents and its deployment.

Deploying calls services.release_mark_deployed, whose back-sync returns the incidents
waiting on the release's cards to support; the API's deploy endpoint calls the same
service under the same permission predicate."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import dateformat, timezone
from django.views.decorators.http import require_http_methods

from tracker.exceptions import DomainError, status_for
from tracker.forms import add_service_error

from . import permissions, selectors, services
from .forms import ReleaseCreateForm, ReleaseEditForm
from .models import Board, ColumnCategory, Release
from .views import _require, board_reader


def _with_state(releases):
    today = timezone.localdate()
    for release in releases:
        release.state, release.state_label = selectors.release_state(release, today)
    return releases


@require_http_methods(["GET", "POST"])
@board_reader
def release_list(request):
    """Every release (or one board's, `?board=<id>`), and a form to plan a new one."""
    board_id = request.GET.get("board", "")
    board = get_object_or_404(Board, pk=board_id) if board_id.isdigit() else None
    can_manage = permissions.can_manage_releases(request.user, board)
    status = 200
    form = None
    if request.method == "POST":
        _require(can_manage)
        form = ReleaseCreateForm(request.POST)
        if form.is_valid():
            target = form.cleaned_data["board"]
            _require(permissions.can_manage_releases(request.user, target))
            try:
                release = services.release_create(
                    board=target,
                    name=form.cleaned_data["name"],
                    planned_for=form.cleaned_data["planned_for"],
                    actor=request.user,
                )
            except ValidationError as exc:
                status = add_service_error(form, exc)
            else:
                messages.success(request, f"Release “{release.name}” planned on {target.name}.")
                return redirect("boards:release", pk=release.pk)
        else:
            status = 400
    elif can_manage:
        form = ReleaseCreateForm(initial={"board": board})
    context = {
        "board": board,
        "releases": _with_state(list(selectors.release_list(board=board))),
        "form": form,
    }
    return render(request, "boards/release_list.html", context, status=status)


def _release_context(request, release):
    cards = selectors.release_cards(release)
    linked = selectors.release_linked_incidents(release)
    (release.state, release.state_label) = selectors.release_state(release)
    return {
        "release": release,
        "cards": cards,
        "cards_not_done": [
            c for c in cards if c.cancelled_at is None and c.column.category != ColumnCategory.DONE
        ],
        "linked_incidents": linked,
        "waiting_incidents": [i for i in linked if i.is_open],
        "caused_incidents": selectors.release_caused_incidents(release),
        "can_deploy": release.deployed_at is None
        and permissions.can_manage_releases(request.user, release.board),
    }


@require_http_methods(["GET", "POST"])
@board_reader
def release_detail(request, pk):
    """A release's contents; POST saves its edit form (name, planned date)."""
    release = get_object_or_404(Release.objects.select_related("board"), pk=pk)
    can_manage = permissions.can_manage_releases(request.user, release.board)
    status = 200
    if request.method == "POST":
        _require(can_manage)
        form = ReleaseEditForm(request.POST)
        if form.is_valid():
            try:
                release = services.release_update(release=release, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                status = add_service_error(form, exc)
            else:
                messages.success(request, f"Release “{release.name}” saved.")
                return redirect("boards:release", pk=release.pk)
        else:
            status = 400
    else:
        form = ReleaseEditForm(initial={"name": release.name, "planned_for": release.planned_for})
    context = {**_release_context(request, release), "form": form if can_manage else None}
    return render(request, "boards/release_detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
@board_reader
def release_deploy(request, pk):
    """GET: what marking the release deployed will do, and a button to confirm. POST: do it.
    Deploying again (a second tab, a resubmitted form) is refused by the service: a 409
    page that says when it was deployed."""
    release = get_object_or_404(Release.objects.select_related("board"), pk=pk)
    _require(permissions.can_manage_releases(request.user, release.board))
    status = 200
    error = None
    if request.method == "POST":
        try:
            release = services.release_mark_deployed(release=release, actor=request.user)
        except DomainError as exc:
            error = exc.detail
            status = status_for(exc)
            release.refresh_from_db()
        else:
            at = dateformat.format(timezone.localtime(release.deployed_at), "j M Y H:i T")
            messages.success(
                request,
                f"{release.name} is marked deployed ({at}). "
                "Incidents waiting on its cards are back with support.",
            )
            return redirect("boards:release", pk=release.pk)
    elif release.deployed_at is not None:
        messages.info(request, f"{release.name} was already deployed.")
        return redirect("boards:release", pk=release.pk)
    context = {**_release_context(request, release), "error": error}
    return render(request, "boards/release_deploy.html", context, status=status)

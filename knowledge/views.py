"""The knowledge base in the browser: the list (search and filters), an article, its
history, the create and edit forms (with a live Markdown preview), archive and restore, and
the reply box's article picker on the incident page."""

from __future__ import annotations

import difflib

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.text import Truncator
from django.views.decorators.http import require_POST

from incidents.models import Incident
from org.models import Service
from tracker.exceptions import DomainError
from tracker.forms import add_service_error, message_service_error

from . import hooks
from .forms import ArticleForm
from .models import Article, Visibility
from .permissions import (
    can_archive_article,
    can_create_article,
    can_edit_article,
    can_view_article,
    can_view_articles,
)
from .rendering import markdown_to_text, render_markdown
from .selectors import article_list, article_picker, article_revisions
from .services import article_archive, article_create, article_restore, article_update

PAGE_SIZE = 25
PICKER_LIMIT = 8
SNIPPET_CHARS = 160


def _require_reader(user):
    if not can_view_articles(user):
        raise PermissionDenied("The knowledge base is for Tandem staff.")


def _article(key: str) -> Article:
    return get_object_or_404(Article.objects.select_related("service", "author", "updated_by"), key=key)


def article_list_view(request):
    _require_reader(request.user)
    filters = {k: request.GET.get(k, "").strip() for k in ("q", "service", "visibility", "archived")}
    page = Paginator(article_list(filters=filters), PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "knowledge/list.html",
        {
            "page": page,
            "articles": page.object_list,
            "filters": filters,
            "services": Service.objects.order_by("name").only("id", "name"),
            "visibilities": Visibility.choices,
            "querystring": params.urlencode(),
            "can_create": can_create_article(request.user),
        },
    )


def _problem_ref(article: Article):
    if article.source_problem_id is None:
        return None
    return hooks.problem_refs_for([article.source_problem_id]).get(article.source_problem_id)


def article_detail(request, key):
    _require_reader(request.user)
    article = _article(key)
    if not can_view_article(request.user, article):
        raise PermissionDenied
    return render(
        request,
        "knowledge/detail.html",
        {
            "article": article,
            "body_html": render_markdown(article.body),
            "problem": _problem_ref(article),
            "revision_count": article.revisions.count(),
            "can_edit": can_edit_article(request.user, article) and not article.is_archived,
            "can_archive": can_archive_article(request.user, article),
        },
    )


def _form_page(request, form, *, article=None, status=200, preview=None):
    return render(
        request,
        "knowledge/form.html",
        {"form": form, "article": article, "preview_html": preview},
        status=status,
    )


def article_create_view(request):
    if not can_create_article(request.user):
        raise PermissionDenied("Your role cannot write articles.")
    initial = {}
    if request.GET.get("service", "").isdigit():
        initial["service"] = Service.objects.filter(pk=request.GET["service"]).first()
    form = ArticleForm(request.POST or None, initial=initial, creating=True)
    if request.method != "POST":
        return _form_page(request, form)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    if "preview" in request.POST:  # the preview button without JavaScript: nothing saved
        return _form_page(request, form, preview=render_markdown(form.cleaned_data["body"]))
    try:
        article = article_create(actor=request.user, **form.cleaned_data)
    except (ValidationError, DomainError) as exc:
        return _form_page(request, form, status=add_service_error(form, exc))
    messages.success(request, f"{article.key} created.")
    return redirect("knowledge:detail", key=article.key)


def article_edit(request, key):
    article = _article(key)
    if not can_edit_article(request.user, article):
        raise PermissionDenied("Your role cannot edit articles.")
    if article.is_archived:
        messages.error(request, f"{article.key} is archived: restore it before editing.")
        return redirect("knowledge:detail", key=article.key)
    initial = {
        "title": article.title,
        "body": article.body,
        "visibility": article.visibility,
        "service": article.service,
        "version": article.version,
    }
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method != "POST":
        return _form_page(request, form, article=article)
    if not form.is_valid():
        return _form_page(request, form, article=article, status=400)
    data = dict(form.cleaned_data)
    if "preview" in request.POST:
        return _form_page(request, form, article=article, preview=render_markdown(data["body"]))
    version = data.pop("version", None)
    note = data.pop("note", "")
    try:
        saved = article_update(
            article=article, actor=request.user, data=data, expected_version=version, note=note
        )
    except (ValidationError, DomainError) as exc:
        return _form_page(request, form, article=article, status=add_service_error(form, exc))
    if saved.version == article.version:
        messages.info(request, "Nothing changed.")
    else:
        messages.success(request, f"{saved.key} saved (version {saved.version}).")
    return redirect("knowledge:detail", key=saved.key)


@require_POST
def preview(request):
    """htmx: the Markdown the editor holds, rendered as the article page will show it."""
    if not can_create_article(request.user):
        raise PermissionDenied
    return render(
        request, "knowledge/_preview.html", {"preview_html": render_markdown(request.POST.get("body", ""))}
    )


def _body_diff(old: str, new: str) -> list[tuple[str, str]]:
    """(kind, line) pairs of a unified diff: kind is "add", "del", "hunk" or "same"."""
    lines = []
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=2)
    for line in list(diff)[2:]:  # skip the ---/+++ header
        if line.startswith("@@"):
            lines.append(("hunk", "…"))
        elif line.startswith("+"):
            lines.append(("add", line[1:]))
        elif line.startswith("-"):
            lines.append(("del", line[1:]))
        else:
            lines.append(("same", line[1:]))
    return lines


def article_history(request, key):
    _require_reader(request.user)
    article = _article(key)
    revisions = article_revisions(article=article)
    entries = []
    for rev in revisions:
        before = rev.previous
        changes = []
        if before is not None:
            if before.title != rev.title:
                changes.append(("Title", before.title, rev.title))
            if before.visibility != rev.visibility:
                changes.append(("Visibility", before.get_visibility_display(), rev.get_visibility_display()))
            if before.service_id != rev.service_id:
                changes.append(
                    ("Service", str(before.service or "Every service"), str(rev.service or "Every service"))
                )
        entries.append(
            {
                "rev": rev,
                "changes": changes,
                "diff": _body_diff(before.body, rev.body) if before is not None else [],
            }
        )
    return render(request, "knowledge/history.html", {"article": article, "entries": entries})


def article_revision(request, key, number):
    _require_reader(request.user)
    article = _article(key)
    revision = article.revisions.select_related("actor", "service").filter(number=number).first()
    if revision is None:
        raise Http404(f"{article.key} has no revision {number}.")
    return render(
        request,
        "knowledge/revision.html",
        {"article": article, "revision": revision, "body_html": render_markdown(revision.body)},
    )


def _version(request) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else None


@require_POST
def article_archive_view(request, key):
    article = _article(key)
    if not can_archive_article(request.user, article):
        raise PermissionDenied("Only the article's author or a manager can archive it.")
    try:
        article_archive(article=article, actor=request.user, expected_version=_version(request))
    except (ValidationError, DomainError) as exc:
        message_service_error(request, exc)
    else:
        messages.success(request, f"{article.key} archived: it is no longer offered to agents or customers.")
    return redirect("knowledge:detail", key=article.key)


@require_POST
def article_restore_view(request, key):
    article = _article(key)
    if not can_archive_article(request.user, article):
        raise PermissionDenied("Only the article's author or a manager can restore it.")
    try:
        article_restore(article=article, actor=request.user, expected_version=_version(request))
    except (ValidationError, DomainError) as exc:
        message_service_error(request, exc)
    else:
        messages.success(request, f"{article.key} restored.")
    return redirect("knowledge:detail", key=article.key)


def _portal_url(request, article: Article) -> str:
    """The customer-facing page of a public article, once the portal has one."""
    try:
        return request.build_absolute_uri(reverse("portal:article", kwargs={"pk": article.pk}))
    except NoReverseMatch:
        return ""


def picker(request):
    """htmx: the reply box's "Insert article" results for an incident.

    A public reply offers public articles only, to insert as text (or as a link to the
    portal's article page, when the portal has one: customers cannot open staff pages). An
    internal note offers every article, as a link to its staff page or as text."""
    _require_reader(request.user)
    incident = None
    if request.GET.get("incident"):
        incident = Incident.objects.filter(key=request.GET["incident"]).only("id", "service_id").first()
    # The reply form's "Visible to" radios, under the name the form gives them.
    field = request.GET.get("visibility_field") or "visibility"
    public = request.GET.get(field, "public") != "internal"
    articles = article_picker(
        request.GET.get("q", ""),
        service_id=incident.service_id if incident else None,
        public_only=public,
        limit=PICKER_LIMIT,
    )
    results = [
        {
            "article": a,
            "text": f"{a.title}\n\n{a.body.strip()}",
            "snippet": Truncator(markdown_to_text(a.body)).chars(SNIPPET_CHARS),
            "link": _portal_url(request, a)
            if public
            else request.build_absolute_uri(reverse("knowledge:detail", kwargs={"key": a.key})),
        }
        for a in articles
    ]
    return render(
        request,
        "knowledge/_picker_results.html",
        {"results": results, "public": public, "q": request.GET.get("q", ""), "incident": incident},
    )

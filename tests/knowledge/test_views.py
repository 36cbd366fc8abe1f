"""The knowledge base's pages: list (search, filters, query count), article, create and edit
(errors next to the fields with what was typed kept, the second save, a stale save), the
preview, history, archive, and the reply box's picker."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents import services as incident_services
from knowledge.models import Article
from knowledge.services import article_archive, article_update

pytestmark = pytest.mark.django_db


def test_list_searches_and_filters(client, kb, write):
    safari = write(title="Safari login loops", visibility="public", service=kb.portal)
    runbook = write(title="Restart the session store", body="Merchants loop on login.", service=kb.portal)
    write(title="Payout delays", service=kb.payments)
    client.force_login(kb.po)
    page = client.get(reverse("knowledge:list"), {"q": "login"})
    assert page.status_code == 200
    assert list(page.context["articles"]) == [safari, runbook]  # the title match first
    page = client.get(reverse("knowledge:list"), {"service": kb.portal.pk, "visibility": "public"})
    assert list(page.context["articles"]) == [safari]
    assert client.get(reverse("knowledge:list"), {"service": "x'; --"}).status_code == 200


def test_list_query_count_does_not_grow(client, kb, write):
    client.force_login(kb.desk)
    for n in range(3):
        write(title=f"Article {n}", service=kb.portal)
    url = reverse("knowledge:list")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(20):
        write(title=f"More {n}", service=kb.payments if n % 2 else None, actor=kb.engineer)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_readers_and_writers(client, kb, write):
    article = write()
    client.force_login(kb.norole)
    assert client.get(reverse("knowledge:list")).status_code == 403
    assert client.get(reverse("knowledge:detail", args=[article.key])).status_code == 403
    client.force_login(kb.po)  # reads, does not write
    page = client.get(reverse("knowledge:detail", args=[article.key]))
    assert page.status_code == 200 and b"Edit" not in page.content
    assert client.get(reverse("knowledge:create")).status_code == 403
    assert client.get(reverse("knowledge:edit", args=[article.key])).status_code == 403
    assert client.post(reverse("knowledge:archive", args=[article.key])).status_code == 403
    client.force_login(kb.developer)  # writes, but archives only their own
    assert client.get(reverse("knowledge:edit", args=[article.key])).status_code == 200
    assert client.post(reverse("knowledge:archive", args=[article.key])).status_code == 403


def test_detail_renders_safely(client, kb, write):
    article = write(body="## Steps\n\n1. **Sign out**\n\n<script>alert(1)</script>")
    client.force_login(kb.desk)
    page = client.get(reverse("knowledge:detail", args=[article.key]))
    html = page.content.decode()
    assert "<h3>Steps</h3>" in html and "<strong>Sign out</strong>" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_create_keeps_what_was_typed_on_error_then_saves(client, kb):
    client.force_login(kb.desk)
    url = reverse("knowledge:create")
    typed = {"title": "  ", "body": "Clear **cookies**", "visibility": "public", "service": kb.portal.pk}
    page = client.post(url, typed)
    assert page.status_code == 400
    html = page.content.decode()
    assert "This field is required." in html or "Give the article a title." in html
    assert "Clear **cookies**" in html and f'value="{kb.portal.pk}" selected' in html
    assert not Article.objects.exists()
    page = client.post(url, {**typed, "title": "Safari login loops", "note": "First draft"})
    article = Article.objects.get()
    assert page.status_code == 302 and page["Location"] == reverse("knowledge:detail", args=[article.key])
    assert (article.title, article.body, article.visibility, article.service) == (
        "Safari login loops",
        "Clear **cookies**",
        "public",
        kb.portal,
    )
    assert article.revisions.get().note == "First draft"


def test_preview_button_without_javascript_saves_nothing(client, kb):
    client.force_login(kb.desk)
    page = client.post(
        reverse("knowledge:create"),
        {"title": "Draft", "body": "# Heading", "visibility": "internal", "preview": "1"},
    )
    assert page.status_code == 200 and "<h2>Heading</h2>" in page.content.decode()
    assert not Article.objects.exists()
    fragment = client.post(reverse("knowledge:preview"), {"body": "[x](javascript:alert(1)) **b**"})
    assert fragment.status_code == 200
    assert (
        "<strong>b</strong>" in fragment.content.decode()
        and 'href="javascript' not in fragment.content.decode()
    )


def _edit_data(page):
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields}
    data["service"] = data["service"] or ""
    data["note"] = data["note"] or ""
    return data


def test_edit_twice_from_the_form_and_a_stale_save_keeps_the_typed_text(client, kb, write):
    article = write(visibility="internal")
    client.force_login(kb.engineer)
    url = reverse("knowledge:edit", args=[article.key])
    first = _edit_data(client.get(url))
    assert first["version"] == 1
    assert client.post(url, {**first, "body": "Step one"}).status_code == 302
    # The second visit: the form holds version 2 and saves again.
    second = _edit_data(client.get(url))
    assert second["version"] == 2 and second["body"] == "Step one"
    assert (
        client.post(url, {**second, "body": "Step one\nStep two", "visibility": "public"}).status_code == 302
    )
    article.refresh_from_db()
    assert article.version == 3 and article.visibility == "public" and article.revisions.count() == 3
    # Saving the form unchanged writes no revision.
    client.post(url, _edit_data(client.get(url)))
    article.refresh_from_db()
    assert article.version == 3
    # Someone else saves meanwhile: 409, the typed text stays in the form.
    stale = _edit_data(client.get(url))
    article_update(article=article, actor=kb.desk, data={"title": "Changed elsewhere"})
    page = client.post(url, {**stale, "body": "My careful rewrite"})
    assert page.status_code == 409
    html = page.content.decode()
    assert "changed by someone else" in html and "My careful rewrite" in html
    article.refresh_from_db()
    assert article.title == "Changed elsewhere" and article.body == "Step one\nStep two"


def test_history_shows_each_revision_and_its_changes(client, kb, write):
    article = write(body="line one\nline two")
    article_update(
        article=article,
        actor=kb.engineer,
        data={"body": "line one\nline 2", "title": "Safari login loop", "visibility": "public"},
        note="Typos",
    )
    client.force_login(kb.po)
    html = client.get(reverse("knowledge:history", args=[article.key])).content.decode()
    assert "Version 2" in html and "Version 1" in html and "Typos" in html
    assert "<del>Safari login loops</del> → <ins>Safari login loop</ins>" in html
    assert '<span class="d-del">− line two</span>' in html and '<span class="d-add">+ line 2</span>' in html
    old = client.get(reverse("knowledge:revision", args=[article.key, 1]))
    assert old.status_code == 200 and "line two" in old.content.decode()
    assert client.get(reverse("knowledge:revision", args=[article.key, 9])).status_code == 404


def test_archive_and_restore_from_the_page(client, kb, write):
    article = write(actor=kb.developer)
    client.force_login(kb.developer)
    assert client.post(reverse("knowledge:archive", args=[article.key]), {"version": 1}).status_code == 302
    article.refresh_from_db()
    assert article.is_archived
    page = client.get(reverse("knowledge:detail", args=[article.key]))
    assert b"Archived on" in page.content and b">Restore<" in page.content
    assert client.get(reverse("knowledge:edit", args=[article.key])).status_code == 302
    # a stale archive form: refused with a message, nothing changed
    client.post(reverse("knowledge:restore", args=[article.key]), {"version": 1})
    article.refresh_from_db()
    assert article.is_archived
    client.post(reverse("knowledge:restore", args=[article.key]), {"version": 2})
    article.refresh_from_db()
    assert not article.is_archived


@pytest.fixture
def incident(kb):
    return incident_services.incident_create(
        actor=kb.desk, title="Merchant stuck on login", service=kb.portal, impact="low", urgency="low"
    )


def test_incident_reply_form_offers_the_picker(client, kb, incident):
    client.force_login(kb.desk)
    html = client.get(reverse("incidents:detail", args=[incident.key])).content.decode()
    assert "Insert an article" in html and 'data-target="id_comment-body"' in html
    assert reverse("knowledge:picker") in html and "comment-visibility" in html


def test_picker_public_reply_offers_public_articles_as_text(client, kb, write, incident):
    public = write(
        title="Safari login loops", body="Clear the **cookies**.", visibility="public", service=kb.portal
    )
    internal = write(title="Restart the session store", body="login fix", service=kb.portal)
    other = write(title="Login to payouts", visibility="public", service=kb.payments)
    archived = write(title="Old login note", visibility="public", service=kb.portal)
    article_archive(article=archived, actor=kb.manager)
    client.force_login(kb.desk)
    url = reverse("knowledge:picker")
    page = client.get(
        url,
        {
            "q": "log",
            "incident": incident.key,
            "visibility_field": "comment-visibility",
            "comment-visibility": "public",
        },
    )
    assert page.status_code == 200
    found = [r["article"] for r in page.context["results"]]
    assert found[0] == public and internal not in found and archived not in found
    assert other in found  # other services' public articles too, after this service's
    html = page.content.decode()
    assert 'data-insert="text"' in html and "Clear the **cookies**." in html
    # No staff link in a reply to a customer (a link to the portal's page, once it has one).
    assert "http://testserver/knowledge/" not in html
    page = client.get(
        url,
        {
            "q": "log",
            "incident": incident.key,
            "visibility_field": "comment-visibility",
            "comment-visibility": "internal",
        },
    )
    found = [r["article"] for r in page.context["results"]]
    assert internal in found and archived not in found
    html = page.content.decode()
    assert f"http://testserver/knowledge/{internal.key}/" in html and 'data-insert="link"' in html


def test_picker_needs_a_staff_member(client, kb):
    client.force_login(kb.norole)
    assert client.get(reverse("knowledge:picker"), {"q": "x"}).status_code == 403

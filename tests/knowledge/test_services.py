"""knowledge.services: create, edit (with the version the editor loaded), archive and
restore, each leaving a revision; bad values refused field by field with nothing written."""

import pytest
from django.core.exceptions import ValidationError

from knowledge.models import Article, ArticleRevision, Visibility
from knowledge.services import (
    article_archive,
    article_create,
    article_restore,
    article_update,
    create_article,
    update_article,
)
from tracker.exceptions import DomainError, StaleObject

pytestmark = pytest.mark.django_db


def test_create_gives_a_key_a_first_revision_and_keeps_the_source_problem(kb):
    article = create_article(
        actor=kb.engineer,
        title="  Payouts delayed after bank holiday  ",
        body="Run the **catch-up** job.\r\nThen check.",
        visibility=Visibility.PUBLIC,
        service=kb.payments,
        source_problem_id=42,
        note="From the known error",
    )
    assert article.key.startswith("KB-") and article.title == "Payouts delayed after bank holiday"
    assert article.body == "Run the **catch-up** job.\nThen check."
    assert article.author == kb.engineer and article.version == 1 and article.source_problem_id == 42
    (rev,) = article.revisions.all()
    assert (rev.number, rev.event, rev.actor, rev.title, rev.visibility, rev.service) == (
        1,
        "created",
        kb.engineer,
        article.title,
        "public",
        kb.payments,
    )
    assert rev.note == "From the known error"
    second = article_create(actor=kb.desk, title="Another")
    assert int(second.key.split("-")[1]) == int(article.key.split("-")[1]) + 1
    assert second.visibility == Visibility.INTERNAL and second.service is None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"visibility": "secret"}, "visibility"),
        ({"body": "x" * 100_001}, "body"),
        ({"service": 3}, "service"),
        ({"note": "n" * 301}, "note"),
    ],
)
def test_create_refuses_bad_values_and_writes_nothing(kb, values, field):
    data = {"actor": kb.desk, "title": "Fine", "body": "", **values}
    with pytest.raises(ValidationError) as exc:
        article_create(**data)
    assert field in exc.value.message_dict
    assert not Article.objects.exists() and not ArticleRevision.objects.exists()


def test_update_records_a_revision_per_save_and_none_for_a_save_that_changes_nothing(kb, write):
    article = write()
    edited = update_article(
        article=article,
        actor=kb.engineer,
        data={"body": "Clear cookies, then sign in again.", "visibility": "public"},
        expected_version=1,
        note="Second step",
    )
    assert edited.version == 2 and edited.updated_by == kb.engineer and edited.visibility == "public"
    again = article_update(article=edited, actor=kb.engineer, data={"body": edited.body}, expected_version=2)
    assert again.version == 2
    revisions = list(article.revisions.order_by("number"))
    assert [(r.number, r.event, r.body) for r in revisions] == [
        (1, "created", "Clear the site's cookies."),
        (2, "edited", "Clear cookies, then sign in again."),
    ]
    assert revisions[1].note == "Second step" and revisions[1].actor == kb.engineer


def test_an_edit_made_on_an_old_version_is_refused_and_the_newer_text_kept(kb, write):
    article = write()
    article_update(article=article, actor=kb.engineer, data={"title": "First editor"}, expected_version=1)
    with pytest.raises(StaleObject) as exc:
        article_update(article=article, actor=kb.desk, data={"title": "Second editor"}, expected_version=1)
    assert "changed by someone else" in exc.value.detail
    article.refresh_from_db()
    assert article.title == "First editor" and article.version == 2 and article.revisions.count() == 2


def test_update_refuses_unknown_fields_and_bad_values(kb, write):
    article = write()
    with pytest.raises(ValidationError) as exc:
        article_update(article=article, actor=kb.desk, data={"author": kb.manager})
    assert "author" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        article_update(article=article, actor=kb.desk, data={"title": "", "visibility": "x"})
    assert set(exc.value.message_dict) == {"title", "visibility"}
    article.refresh_from_db()
    assert article.version == 1


def test_archive_and_restore_are_revisions_and_an_archived_article_is_not_edited(kb, write):
    article = write()
    archived = article_archive(article=article, actor=kb.manager, expected_version=1)
    assert archived.is_archived and archived.version == 2
    with pytest.raises(DomainError):
        article_archive(article=archived, actor=kb.manager)
    with pytest.raises(DomainError) as exc:
        article_update(article=archived, actor=kb.desk, data={"title": "Nope"})
    assert exc.value.code == "article_archived"
    restored = article_restore(article=archived, actor=kb.manager, expected_version=2)
    assert not restored.is_archived and restored.version == 3
    with pytest.raises(DomainError):
        article_restore(article=restored, actor=kb.manager)
    assert list(article.revisions.order_by("number").values_list("event", flat=True)) == [
        "created",
        "archived",
        "restored",
    ]

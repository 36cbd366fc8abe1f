"""knowledge.selectors: the staff list's search and filters, the reply picker, and the
portal's public suggestions (PostgreSQL full-text search over the stored vector)."""

import pytest

from knowledge.selectors import article_list, article_picker, articles_for_problem, suggest_public_articles
from knowledge.services import article_archive, article_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(kb, write):
    return {
        "safari": write(
            title="Safari login loops",
            body="Safari keeps sending merchants back to the sign-in page. Clear the cookies.",
            visibility="public",
            service=kb.portal,
        ),
        "payout": write(
            title="Payouts delayed after a bank holiday",
            body="Settlement runs the next working day.",
            visibility="public",
            service=kb.payments,
        ),
        "internal": write(
            title="Restart the session store",
            body="When merchants loop on login, restart redis-sessions (internal runbook).",
            visibility="internal",
            service=kb.portal,
        ),
        "general": write(
            title="How to reset your password",
            body="Use the Forgot password link on the sign-in page.",
            visibility="public",
        ),
    }


def test_list_search_finds_stems_and_every_word(library):
    found = list(article_list(filters={"q": "safari loop"}))
    assert found == [library["safari"]]  # "loop" finds "loops", both words must occur
    assert set(article_list(filters={"q": "merchants"})) == {library["safari"], library["internal"]}
    assert list(article_list(filters={"q": "how to reset"})) == [library["general"]]  # stop words in a title
    assert list(article_list(filters={"q": library["payout"].key.lower()})) == [library["payout"]]
    assert list(article_list(filters={"q": "'); drop table --"})) == []


def test_list_filters_and_archived(kb, library):
    assert set(article_list(filters={"service": kb.portal.pk})) == {library["safari"], library["internal"]}
    assert list(article_list(filters={"service": "none"})) == [library["general"]]
    assert library["internal"] not in article_list(filters={"visibility": "public"})
    article_archive(article=library["payout"], actor=kb.manager)
    assert library["payout"] not in article_list()
    assert list(article_list(filters={"archived": "1"})) == [library["payout"]]


def test_a_title_match_ranks_above_a_body_match(kb, write):
    body_only = write(title="Cookie banner", body="Mentions invoices once.", visibility="public")
    title = write(title="Invoices missing VAT", body="Check the tax settings.", visibility="public")
    assert suggest_public_articles("invoices")[:2] == [title, body_only]


def test_suggestions_are_public_live_and_share_a_word(kb, library):
    text = "Hi, on Safari I loop back to the login page every time, please help"
    found = suggest_public_articles(text, service_id=kb.portal.pk)
    assert found[0] == library["safari"]
    assert library["internal"] not in found  # internal: never to a customer
    assert library["payout"] not in found  # another service
    assert suggest_public_articles("the and please help") == []
    assert suggest_public_articles("") == []
    assert len(suggest_public_articles("page sign", limit=1)) == 1
    article_archive(article=library["safari"], actor=kb.manager)
    assert library["safari"] not in suggest_public_articles(text, service_id=kb.portal.pk)


def test_suggestions_follow_an_edit(kb, library):
    article_update(article=library["payout"], actor=kb.desk, data={"body": "Also when the acquirer is late."})
    assert suggest_public_articles("acquirer") == [library["payout"]]


def test_picker_prefix_service_first_and_public_only(kb, library):
    assert article_picker("safa", service_id=kb.portal.pk) == [library["safari"]]  # typing: a prefix
    logins = article_picker("log", service_id=kb.portal.pk)
    assert set(logins[:2]) == {library["safari"], library["internal"]} and logins[2:] == []
    assert library["internal"] not in article_picker("log", service_id=kb.portal.pk, public_only=True)
    # Nothing typed: this service's and the general articles, not other services'.
    offered = article_picker("", service_id=kb.portal.pk)
    assert set(offered) == {library["safari"], library["internal"], library["general"]}
    assert offered[-1] == library["general"]  # the service's own first


def test_articles_for_problem(kb, write):
    one = write(title="Workaround A", source_problem_id=7)
    write(title="Unrelated")
    assert list(articles_for_problem(7)) == [one]


def test_the_word_match_fallback_used_on_sqlite(monkeypatch, kb, library):
    """The embedded default has no full-text search: every word as a substring (all words
    for the list, any for suggestions, title matches first)."""
    from knowledge import selectors

    monkeypatch.setattr(selectors, "_postgres", lambda: False)
    assert list(article_list(filters={"q": "safari cookies"})) == [library["safari"]]
    found = suggest_public_articles("Safari login trouble", service_id=kb.portal.pk)
    assert found[0] == library["safari"] and library["internal"] not in found
    assert suggest_public_articles("please help") == []

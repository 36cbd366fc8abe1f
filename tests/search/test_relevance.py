"""Search relevance on hand-written data (PostgreSQL: full-text with English stems, keys,
names by trigram word similarity). The list's `search` filter and the global search share
the match, so both are asked."""

import re

import pytest

from incidents import services
from incidents.models import Incident
from incidents.selectors import filter_search
from search.selectors import global_search

pytestmark = pytest.mark.django_db


def found(text):
    return list(filter_search(Incident.objects.order_by("id"), text).values_list("key", flat=True))


def best_first(user, text, kind=None):
    return [(r.type, r.key or r.title) for r in global_search(user=user, text=text, kind=kind)]


def test_words_with_stems_find_the_incident(desk):
    # "loops" and "loop", "challenges" and "challenge": the same English stem
    assert found("safari loops") == [desk.safari.key]
    assert found("Safari loop") == [desk.safari.key]
    assert found("challenges on SAFARI") == [desk.safari.key]  # "on" is a stop word, ignored
    assert found("timeout") == [desk.payouts.key]  # the description counts
    assert found("refunds export") == [desk.refunds.key]


def test_every_term_must_match(desk):
    assert found("safari refund") == []
    assert found("loops nonsenseword") == []


def test_a_customer_name_finds_its_incidents_even_with_a_typo(desk):
    assert found("contoso") == [desk.safari.key]
    assert found("Contosso") == [desk.safari.key]  # within trigram reach
    assert found("northwind") == [desk.refunds.key, desk.payouts.key]
    # a name and a word together: Northwind's incidents about a timeout
    assert found("northwind timeout") == [desk.payouts.key]


def test_assignee_and_requester_names_and_addresses(desk):
    assert found("Tariq") == [desk.refunds.key]
    assert found("tarik") == [desk.refunds.key]  # one letter off
    assert found("Haddad") == [desk.refunds.key]
    assert found("Priya") == [desk.safari.key]
    assert found("priya@contoso.example") == [desk.safari.key]


def test_keys_and_key_numbers(desk):
    number = desk.refunds.key.split("-")[1]
    assert found(desk.refunds.key) == [desk.refunds.key]
    assert found(desk.refunds.key.lower()) == [desk.refunds.key]
    assert found(number) == [desk.refunds.key]


def test_comment_words_find_the_incident_after_the_reply(desk):
    assert found("certificate rotation") == []
    services.incident_comment(
        incident=desk.payouts, actor=desk.sam, body="Looks like the certificate rotation broke it."
    )
    assert found("certificate rotation") == [desk.payouts.key]
    assert found("rotated certificates") == [desk.payouts.key]  # stems again


def test_an_edited_title_is_searchable_and_the_old_words_are_gone(desk):
    services.incident_update(incident=desk.payouts, actor=desk.sam, data={"title": "Settlement file late"})
    assert found("payout") == []
    assert found("settlement late") == [desk.payouts.key]
    # a later save of the incident (another field) keeps the vector written by SQL
    services.incident_update(incident=desk.payouts, actor=desk.sam, data={"impact": "high"})
    assert found("settlement late") == [desk.payouts.key]


def test_the_vector_survives_a_later_save_of_an_instance_loaded_before_a_comment(desk):
    stale = Incident.objects.get(pk=desk.safari.pk)
    services.incident_comment(incident=desk.safari, actor=desk.sam, body="Apple Pay sheet flickers")
    stale.contact = "Ops desk"
    stale.save()
    assert found("flickers") == [desk.safari.key]


def test_stop_words_alone_find_nothing(desk):
    assert found("the") == []
    assert found("on the") == []
    assert found("   ") == [desk.safari.key, desk.refunds.key, desk.payouts.key]  # no terms: no filter


def test_punctuation_and_operators_are_plain_text(desk):
    # tsquery syntax in the input is not syntax: no error, plain words
    assert found("safari & | ! loops:*") == [desk.safari.key]
    assert found("'\"") == [desk.safari.key, desk.refunds.key, desk.payouts.key]
    assert found('"challenge loops"') == [desk.safari.key]  # a phrase
    assert found('"loops challenge"') == []  # in that order


def test_relevance_order_puts_the_key_first_then_the_better_text_match(desk):
    other = desk.log("Safari users see a blank page", customer=desk.northwind, description="Safari only.")
    by_rank = filter_search(Incident.objects.all(), "safari", by_relevance=True)
    keys = list(by_rank.values_list("key", flat=True))
    assert set(keys) == {desk.safari.key, other.key}
    # "safari" in the title and twice in the description beats once in the title
    assert keys[0] == other.key
    by_key = filter_search(Incident.objects.all(), f"{desk.safari.key} safari", by_relevance=True)
    assert list(by_key.values_list("key", flat=True)) == [desk.safari.key]


def test_global_search_ranks_kinds_together(desk):
    user = desk.tariq
    results = best_first(user, "contoso")
    # the customer itself first, then its contact's incident; its contact's address too
    assert results[0] == ("customer", "Contoso Retail")
    assert ("incident", desk.safari.key) in results
    assert ("contact", "Priya Raman") in results
    assert best_first(user, "safari loops") == [("incident", desk.safari.key)]
    assert best_first(user, desk.refunds.key)[0] == ("incident", desk.refunds.key)
    assert best_first(user, "Contosso")[0] == ("customer", "Contoso Retail")
    assert best_first(user, "contoso", kind="contact") == [("contact", "Priya Raman")]


def test_snippets_highlight_the_words_and_escape_the_rest(desk):
    incident = desk.log(
        "Widget <script> breaks",
        description="The <b>checkout</b> widget loops when the card is declined & retried.",
    )
    [result] = global_search(user=desk.sam, text="declined", kind="incident")
    assert result.key == incident.key
    assert "<mark>declined</mark>" in result.snippet
    # markup in the text never comes through as markup: only the highlight marks are tags
    assert "&amp; retried" in result.snippet
    assert set(re.findall(r"</?[a-z]+", result.snippet)) == {"<mark", "</mark"}
    assert result.title == "Widget <script> breaks"  # escaped by the template, not here


def test_a_match_in_a_comment_shows_that_comment(desk):
    services.incident_comment(
        incident=desk.refunds, actor=desk.tariq, body="The export job hits a lock on the ledger table."
    )
    [result] = global_search(user=desk.sam, text="ledger", kind="incident")
    assert result.snippet.startswith("Comment:")
    assert "<mark>ledger</mark>" in result.snippet


def test_problems_and_articles_are_found_by_their_words_and_keys(desk):
    from knowledge.services import article_archive, article_create
    from problems.services import problem_create

    problem = problem_create(
        actor=desk.tariq,
        title="Issuer ACS redirects loop",
        description="Several banks' access control servers send shoppers back.",
        workaround="Ask the shopper to switch off content blockers.",
        incidents=[desk.safari],
    )
    article = article_create(
        actor=desk.tariq,
        title="What to do when the 3-D Secure page loops",
        body="Ask the shopper to **disable content blockers**, then retry.",
        visibility="public",
    )
    results = best_first(desk.sam, "loops")
    assert ("problem", problem.key) in results and ("article", article.key) in results
    assert best_first(desk.sam, "content blockers", kind="problem") == [("problem", problem.key)]
    assert best_first(desk.sam, "content blockers", kind="article") == [("article", article.key)]
    assert best_first(desk.sam, problem.key)[0] == ("problem", problem.key)
    [hit] = global_search(user=desk.sam, text="disable blockers", kind="article")
    assert "<mark>disable</mark>" in hit.snippet and hit.url == f"/knowledge/{article.key}/"
    # an archived article is not offered
    article_archive(article=article, actor=desk.tariq)
    assert best_first(desk.sam, "content blockers", kind="article") == []


def test_titles_are_marked_where_their_words_match_and_kept_whole_otherwise(desk):
    tagged = desk.log("Checkout <b>loops</b> for Safari", description="Loops.")
    results = {r.key: r for r in global_search(user=desk.sam, text="safari loops", kind="incident")}
    assert results[desk.safari.key].display_title == (
        "3-D Secure challenge <mark>loops</mark> on <mark>Safari</mark>"
    )
    # markup in a title is text: escaped around the marks
    assert results[tagged.key].display_title == (
        "Checkout &lt;b&gt;<mark>loops</mark>&lt;/b&gt; for <mark>Safari</mark>"
    )


def test_a_word_the_statistics_call_common_needs_no_probe_and_finds_the_same(desk, monkeypatch):
    """incident_search skips the probe (how many match, up to PROBE_LIMIT) for one word that
    PostgreSQL's statistics count in more than 3 × PROBE_LIMIT incidents; the page is the
    same either way, and a rare word, two words or a word outside the statistics still probe."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from incidents import search

    for n in range(12):
        desk.log(f"Checkout button greyed out {n}")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Incident._meta.db_table}")
    probed = found("checkout")
    monkeypatch.setattr(search, "PROBE_LIMIT", 2)  # 12 matches are "well over" 3 × 2

    def probes(text):
        with CaptureQueriesContext(connection) as queries:
            keys = found(text)
        return keys, sum(1 for q in queries if 'SELECT "incidents_incident"."id" AS "pk"' in q["sql"])

    assert search.common_word(search.prepare("checkout"))
    assert probes("checkout") == (probed, 0)
    assert len(probed) == 12
    assert not search.common_word(search.prepare("safari"))  # in one incident of 15
    assert probes("safari")[1] == 1
    assert not search.common_word(search.prepare("checkout greyed"))
    assert probes("checkout greyed")[1] == 1
    assert not search.common_word(search.prepare("the"))

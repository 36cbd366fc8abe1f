"""Search on SQLite, the embedded default (`./scripts/run`): no full-text index and no
pg_trgm there, so every term must be contained in the key, title, description, contact, a
comment, or the customer's, requester's or assignee's name. The suite runs on PostgreSQL;
the first test starts pytest again on this module with the local settings and an SQLite
file, which runs the `*_on_sqlite` tests (they skip elsewhere), as tests/sla does for the
sweep. The migrations' PostgreSQL-only steps are skipped there, which this run proves too."""

from pathlib import Path

import pytest
from django.db import connection

from incidents import services
from incidents.models import Incident
from incidents.selectors import filter_search
from search.selectors import global_search
from tests.sqlite_run import ROOT, outcomes, sqlite_run


def found(text):
    return list(filter_search(Incident.objects.order_by("id"), text).values_list("key", flat=True))


@pytest.mark.xdist_group("sqlite")
@pytest.mark.django_db
def test_the_sqlite_search_tests_pass_on_a_real_sqlite_database():
    if connection.vendor == "sqlite":
        pytest.skip("this is the SQLite run itself")
    code, out = sqlite_run()
    assert code == 0, out[-6000:]
    cases = sorted(name for name in globals() if name.startswith("test_") and name.endswith("_on_sqlite"))
    assert outcomes(str(Path(__file__).relative_to(ROOT))) == dict.fromkeys(cases, "PASSED"), out[-3000:]


@pytest.fixture
def on_sqlite():
    if connection.vendor != "sqlite":
        pytest.skip("runs in the SQLite subprocess started by the test above")


@pytest.mark.django_db
def test_words_names_keys_and_comments_match_on_sqlite(on_sqlite, desk):
    assert found("safari loops") == [desk.safari.key]
    assert found("Safari loop") == [desk.safari.key]  # a substring, not a stem
    assert found("contoso") == [desk.safari.key]
    assert found("Tariq") == [desk.refunds.key]
    assert found("priya@contoso") == [desk.safari.key]
    assert found(desk.refunds.key.lower()) == [desk.refunds.key]
    assert found("northwind timeout") == [desk.payouts.key]
    assert found("safari refund") == []
    services.incident_comment(incident=desk.payouts, actor=desk.sam, body="Certificate rotation broke it")
    assert found("rotation") == [desk.payouts.key]
    assert Incident.objects.filter(search_vector__isnull=False).count() == 0  # no vector kept here


@pytest.mark.django_db
def test_global_search_page_and_api_work_on_sqlite(on_sqlite, desk, client):
    results = [(r.type, r.key or r.title) for r in global_search(user=desk.sam, text="contoso")]
    assert ("customer", "Contoso Retail") in results
    assert ("incident", desk.safari.key) in results
    assert ("contact", "Priya Raman") in results
    top = global_search(user=desk.sam, text=desk.refunds.key)
    assert (top[0].type, top[0].key) == ("incident", desk.refunds.key)
    client.force_login(desk.sam)
    r = client.get("/api/v1/search/", {"q": "safari loops"})
    assert r.status_code == 200
    assert [x["key"] for x in r.json()["results"]] == [desk.safari.key]
    page = client.get("/search/", {"q": "Tariq"})
    assert page.status_code == 200 and desk.refunds.key in page.content.decode()
    queue = client.get("/incidents/", {"tab": "all", "search": "contoso", "sort": "relevance"})
    assert queue.status_code == 200 and desk.safari.key in queue.content.decode()


@pytest.mark.django_db
def test_an_exact_card_key_comes_first_among_many_that_contain_it_on_sqlite(on_sqlite, desk):
    from search.selectors import PER_KIND
    from tests.boards.factories import BoardFactory, CardFactory

    board = BoardFactory()
    CardFactory(board=board, key="WEB-1", title="Retry failed captures")
    # More newer cards whose keys contain it (WEB-10 … WEB-1nn) than one kind's share.
    for n in range(10, 20 + PER_KIND):
        CardFactory(board=board, key=f"WEB-{n}", title="Something else")
    cards = [r.key for r in global_search(user=desk.sam, text="WEB-1") if r.type == "card"]
    assert cards and cards[0] == "WEB-1", cards


@pytest.mark.django_db
def test_the_incident_list_reads_its_names_and_clocks_through_the_orm_on_sqlite(on_sqlite, desk, client):
    """PostgreSQL reads a list page's names, links and clocks in plain statements; SQLite
    through the ORM (incidents.selectors, sla.incident_reads): the same answer here."""
    desk.safari.participants.add(desk.sam)
    Incident.objects.filter(pk=desk.refunds.pk).update(parent=desk.safari, assignee=desk.sam)
    client.force_login(desk.sam)
    r = client.get("/api/v1/incidents/", {"page_size": 50})
    assert r.status_code == 200, r.content
    rows = {row["key"]: row for row in r.json()["results"]}
    safari, refunds = rows[desk.safari.key], rows[desk.refunds.key]
    assert safari["service_name"] == desk.safari.service.name and safari["team_name"]
    assert safari["participants"] == [desk.sam.pk]
    assert refunds["parent"] == desk.safari.key and refunds["assignee_name"] == desk.sam.display_name
    assert safari["sla"] and all("remaining_seconds" in clock for clock in safari["sla"])

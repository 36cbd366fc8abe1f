"""GET /api/v1/search/ and the /search/ page: who may search, bad input, the contract's
shape, and query counts that do not grow with the rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from incidents import search
from org.models import Contact, Customer
from tests.boards.factories import CardFactory
from tests.factories import UserFactory
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def _queries(call):
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response


def test_the_contract_shape_best_first(api, desk):
    api.as_user(desk.sam)
    r = api.get("/api/v1/search/", {"q": "contoso"})
    assert r.status_code == 200
    results = r.json()["results"]
    assert results[0] == {
        "type": "customer",
        "id": desk.contoso.pk,
        "key": "",
        "title": "Contoso Retail",
        "snippet": "contoso.example",
        "url": f"/customers/{desk.contoso.pk}/",
    }
    incident = next(x for x in results if x["type"] == "incident")
    assert incident["key"] == desk.safari.key and incident["url"] == f"/incidents/{desk.safari.key}/"
    r = api.get("/api/v1/search/", {"q": "safari loops"})
    [hit] = r.json()["results"]
    assert (hit["type"], hit["key"]) == ("incident", desk.safari.key)
    r = api.get("/api/v1/search/", {"q": "bank page"})
    [hit] = r.json()["results"]
    assert "sent back to the <mark>bank</mark> <mark>page</mark>" in hit["snippet"]


def test_one_kind_only_and_cards(api, desk):
    card = CardFactory(title="Fix 3-D Secure loop on Safari", description="Redirect after the challenge.")
    api.as_user(desk.sam)
    r = api.get("/api/v1/search/", {"q": "safari loop", "type": "card"})
    assert [(x["type"], x["key"]) for x in r.json()["results"]] == [("card", card.key)]
    r = api.get("/api/v1/search/", {"q": card.key.lower()})
    assert r.json()["results"][0]["key"] == card.key  # an exact key first


@pytest.mark.parametrize(
    ("params", "field"),
    [({}, "q"), ({"q": "   "}, "q"), ({"q": "x" * 201}, "q"), ({"q": "loops", "type": "widget"}, "type")],
)
def test_bad_input_is_a_400_with_the_field(api, desk, params, field):
    api.as_user(desk.sam)
    r = api.get("/api/v1/search/", params)
    assert r.status_code == 400
    assert list(r.json()) == [field]


def test_who_may_search(api, client, desk):
    assert api.get("/api/v1/search/", {"q": "contoso"}).status_code == 401
    nobody = UserFactory(username="nobody")
    assert api.as_user(nobody).get("/api/v1/search/", {"q": "contoso"}).status_code == 403
    client.force_login(nobody)
    assert client.get("/search/", {"q": "contoso"}).status_code == 403
    for role in Role.values:
        user = UserFactory(roles=[role])
        assert api.as_user(user).get("/api/v1/search/", {"q": "contoso"}).status_code == 200


def _more_rows(desk, n):
    """n more of each kind, all matching 'contoso' and 'timeout' (names and words)."""
    customers = Customer.objects.bulk_create(Customer(name=f"Contoso Branch {i}") for i in range(n))
    Contact.objects.bulk_create(
        Contact(customer=c, name=f"Contoso buyer {i}", email=f"b{i}@contoso.example")
        for i, c in enumerate(customers)
    )
    for i in range(n):
        desk.log(f"Checkout timeout {i}", customer=desk.contoso, description="Gateway timeout.")
        CardFactory(title=f"Timeout in checkout {i}")
    made = IncidentFactory.create_batch(n, customer=desk.contoso, description="timeout")
    search.vector_refresh(i.pk for i in made)  # rows written directly: their vectors as a seed writes them


@pytest.mark.parametrize("q", ["contoso", "timeout", "INC-1001"])
def test_the_search_endpoint_query_count_does_not_grow(api, desk, q):
    api.as_user(desk.sam)
    small, _ = _queries(lambda: api.get("/api/v1/search/", {"q": q}))
    _more_rows(desk, 12)
    large, r = _queries(lambda: api.get("/api/v1/search/", {"q": q}))
    assert r.json()["results"]
    assert large == small, (small, large)
    # auth, roles, names looked up, the word's statistics (one term), the incidents probe, one
    # per kind, comment snippets
    assert large <= 12


def test_the_incident_list_search_query_count_does_not_grow(api, desk):
    api.as_user(desk.sam)
    url = "/api/v1/incidents/?page_size=500&search=contoso timeout"
    desk.log("Checkout timeout", customer=desk.contoso)
    api.get(url)  # the connection's first list prepares its statements (tracker.sql)
    small, r = _queries(lambda: api.get(url))
    assert len(r.json()["results"]) == 1
    _more_rows(desk, 12)
    large, r = _queries(lambda: api.get(url + "&sort=relevance"))
    assert len(r.json()["results"]) == 25
    assert large == small, (small, large)


def test_the_queue_page_search_query_count_does_not_grow(client, desk):
    client.force_login(desk.sam)
    url = "/incidents/?tab=all&status=&search=contoso timeout"
    desk.log("Checkout timeout", customer=desk.contoso)
    small, r = _queries(lambda: client.get(url))
    _more_rows(desk, 12)
    large, r = _queries(lambda: client.get(url + "&sort=relevance"))
    assert r.content.count(b"Checkout timeout") >= 13
    assert large == small, (small, large)


def test_the_page_shows_highlighted_escaped_results_and_keeps_the_words(client, desk):
    desk.log("Safari <img src=x onerror=alert(1)> loops", description="Challenge loops <b>again</b>.")
    client.force_login(desk.sam)
    r = client.get("/search/", {"q": "safari loops"})
    html = r.content.decode()
    assert r.status_code == 200
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<mark>loops</mark>" in html
    assert 'value="safari loops"' in html  # the page's box and the top bar's keep the words
    assert html.count('value="safari loops"') == 2
    assert "All incidents matching" in html
    r = client.get("/search/", {"q": "x" * 201})
    assert r.status_code == 400 and "Keep the search under 200 characters." in r.content.decode()
    r = client.get("/search/", {"q": "zzzqqq"})
    assert "Nothing matches" in r.content.decode()


def test_the_incident_list_filter_and_queue_use_the_same_engine(api, client, desk):
    api.as_user(desk.sam)
    keys = [x["key"] for x in api.get("/api/v1/incidents/", {"search": "tarik"}).json()["results"]]
    assert keys == [desk.refunds.key]
    client.force_login(desk.sam)
    html = client.get("/incidents/", {"tab": "all", "search": "Contosso"}).content.decode()
    assert desk.safari.key in html and desk.refunds.key not in html


def test_card_words_are_searched_through_their_gin_index():
    # The expression the search filters by must be the one boards migration 0007 indexed,
    # or PostgreSQL computes every card's vector per search (50 ms at 5,000 cards).
    from django.contrib.postgres.search import SearchQuery

    from boards.models import Card
    from search.selectors import CONFIG, card_search_vector

    CardFactory(title="Gateway timeout on checkout")
    qs = (
        Card.objects.annotate(search_words=card_search_vector())
        .filter(search_words=SearchQuery("checkout", config=CONFIG))
        .order_by()
        .values("id")
    )
    with connection.cursor() as cursor:
        # The table is tiny: leave the planner only index conditions, to see what may be used.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = qs.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "card_search_vector" in plan, plan
    assert [row["id"] for row in qs]  # and it finds the card

"""Keyset pagination of the big lists: every row once, in order, whatever the sort, and deep
pages cost what the first page costs."""

import base64
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sla.models import SLATimer
from tests.boards.factories import BoardFactory, CardFactory
from tests.factories import ServiceFactory
from tests.incidents.factories import IncidentFactory


def _walk(api, url, page_size):
    """Follow `next` links to the end; return the rows in the order served."""
    rows, pages = [], 0
    sep = "&" if "?" in url else "?"
    url = f"{url}{sep}page_size={page_size}"
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"results", "next"}
        rows.extend(body["results"])
        url = body["next"]
        pages += 1
        assert pages < 100
    return rows, pages


@pytest.fixture
def incidents(db):
    """23 incidents with ties in priority and creation time, and some without an SLA clock."""
    service = ServiceFactory()
    now = timezone.now().replace(microsecond=123456)
    rows = []
    for i in range(23):
        rows.append(
            IncidentFactory(
                service=service,
                priority=f"P{i % 3 + 1}",
                # Groups of three share an instant: the primary key has to break the tie.
                created_at=now - timedelta(minutes=i // 3),
            )
        )
    for i, incident in enumerate(rows[:12]):
        due = now + timedelta(minutes=7 * (i % 4))  # ties in due time too
        SLATimer.objects.create(
            incident=incident, metric="resolution", state="running", started_at=now, due_at=due, warn_at=due
        )
    return rows


@pytest.mark.parametrize(
    "query",
    [
        "",
        "sort=newest",
        "sort=oldest",
        "sort=priority",
        "sort=updated",
        "sort=sla",
        "ordering=sla_due_at",
        "ordering=-sla_due_at",
        "ordering=priority",
        "ordering=-created_at",
        "ordering=key",
        "priority=P2",
    ],
)
def test_incident_pages_serve_every_row_once_in_the_unpaginated_order(api, admin_user, incidents, query):
    api.as_user(admin_user)
    whole = api.get(f"/api/v1/incidents/?{query}&page_size=500").json()
    assert whole["next"] is None
    expected = [row["id"] for row in whole["results"]]
    assert len(expected) == (23 if "priority=" not in query else 8)
    for size in (1, 4, 7):
        rows, pages = _walk(api, f"/api/v1/incidents/?{query}", size)
        assert [row["id"] for row in rows] == expected, (query, size)
        assert pages == -(-len(expected) // size)  # no empty last page


def test_rows_added_while_paging_neither_repeat_nor_shift(api, admin_user, incidents):
    api.as_user(admin_user)
    first = api.get("/api/v1/incidents/?sort=newest&page_size=5").json()
    IncidentFactory(service=incidents[0].service)  # newest: would push rows along with OFFSET paging
    rest, _ = _walk(api, first["next"].split("testserver", 1)[1], 5)
    seen = [row["id"] for row in first["results"] + rest]
    assert len(seen) == len(set(seen)) == 23


def test_next_link_keeps_the_filters(api, admin_user, incidents):
    api.as_user(admin_user)
    body = api.get("/api/v1/incidents/?priority=P1&page_size=2").json()
    query = parse_qs(urlsplit(body["next"]).query)
    assert query["priority"] == ["P1"] and query["page_size"] == ["2"] and query["cursor"]


@pytest.mark.parametrize(
    "cursor", ["garbage", "W10", "WzEsMiwzXQ", "eyJhIjoxfQ", "%%%", "WyJ4IiwieSIsInoiXQ"]
)
def test_tampered_cursor_is_a_400_with_a_field_message(api, admin_user, incidents, cursor):
    api.as_user(admin_user)
    response = api.get(f"/api/v1/incidents/?cursor={cursor}")
    assert response.status_code == 400
    assert "cursor" in response.json()


@pytest.mark.parametrize("size", ["0", "-3", "abc"])
def test_bad_page_size_is_a_400(api, admin_user, incidents, size):
    api.as_user(admin_user)
    response = api.get(f"/api/v1/incidents/?page_size={size}")
    assert response.status_code == 400 and "page_size" in response.json()


def test_a_deep_page_costs_the_same_queries_as_the_first(api, admin_user, incidents):
    api.as_user(admin_user)
    with CaptureQueriesContext(connection) as first_ctx:
        first = api.get("/api/v1/incidents/?page_size=3").json()
    url = first["next"]
    for _ in range(5):
        url = api.get(url).json()["next"]
    with CaptureQueriesContext(connection) as deep_ctx:
        deep = api.get(url)
    assert deep.status_code == 200 and len(deep.json()["results"]) == 3
    assert len(deep_ctx.captured_queries) == len(first_ctx.captured_queries)
    # The deep page seeks by value: no OFFSET in the SQL.
    assert not any("OFFSET" in q["sql"] for q in deep_ctx.captured_queries)


def test_card_pages_follow_board_and_rank(api, admin_user, db):
    boards = [BoardFactory(), BoardFactory()]
    for i in range(14):
        CardFactory(board=boards[i % 2], rank=(i // 4) * 10)  # equal ranks: the id breaks ties
    api.as_user(admin_user)
    whole = api.get("/api/v1/cards/?page_size=500").json()["results"]
    expected = [c["id"] for c in sorted(whole, key=lambda c: (c["board"], c["rank"], c["id"]))]
    assert [c["id"] for c in whole] == expected
    for size in (1, 3, 5):
        rows, _ = _walk(api, "/api/v1/cards/", size)
        assert [c["id"] for c in rows] == expected
    rows, _ = _walk(api, f"/api/v1/cards/?board={boards[1].pk}", 2)
    assert {c["board"] for c in rows} == {boards[1].pk} and len(rows) == 7


def test_cursor_with_an_integer_beyond_the_column_is_a_400(api, admin_user, incidents):
    api.as_user(admin_user)
    cursor = parse_qs(urlsplit(api.get("/api/v1/incidents/?page_size=2").json()["next"]).query)["cursor"][0]
    values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    values[-1] = 2**70  # the id tie-breaker, far beyond a bigint
    forged = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
    response = api.get(f"/api/v1/incidents/?cursor={forged}")
    assert response.status_code == 400
    assert "cursor" in response.json()

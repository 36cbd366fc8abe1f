"""The incident list's lean read path (issue 19) answers exactly what the full serializer
answers over the fully joined incident: every field populated (customer, requester, copies,
participants, parent, cause card and release, card links with their fix forecast, problem,
SLA clocks), under every sort and filter the benchmark times, and in a fixed number of
queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Prefetch
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.request import Request

from boards import services as board_services
from boards.models import CardIncident, ColumnCategory
from incidents.api.serializers import IncidentSerializer
from incidents.models import Incident, Status
from org.models import Contact
from problems.models import Problem, ProblemIncident
from sla.selectors import sla_timer_prefetch
from tests.boards.factories import BoardFactory, CardFactory, ReleaseFactory, column_of, lane_of

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def frozen(monkeypatch):
    """One instant for the request and the reference (the clocks' remaining seconds)."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def _reference_rows(ids, user):
    """The incidents as the full serializer shows them over the old nine-table select_related
    (what the list answered before the lean path)."""
    qs = (
        Incident.objects.select_related(
            "service", "team", "assignee", "customer", "reporter", "parent", "requester", "problem_link"
        )
        .prefetch_related(
            sla_timer_prefetch(),
            "cc",
            Prefetch(
                "card_links",
                queryset=CardIncident.objects.select_related("card__column", "card__assignee").order_by("id"),
            ),
            "participants",
        )
        .filter(pk__in=ids)
    )
    by_id = {i.pk: i for i in qs}
    request = Request(RequestFactory().get("/api/v1/incidents/"))
    request.user = user
    context = {"request": request}
    rows = [IncidentSerializer(by_id[pk], context=context).data for pk in ids]
    for row in rows:
        # The prefetch read participants in no set order (no ORDER BY); the lean path gives
        # them by user id.
        row["participants"] = sorted(row["participants"])
    return rows


@pytest.fixture
def populated(org, log_incident):
    """Two incidents with every field set and one bare one."""
    board = BoardFactory(name="Payments board", teams=[org.dev])
    ready = column_of(board, ColumnCategory.READY)
    lane = lane_of(board)
    cards = [CardFactory(board=board, column=ready, lane=lane, key=f"Q-{i}", rank=i) for i in range(3)]
    cards[0].assignee = org.developer
    cards[0].save(update_fields=["assignee"])
    release = ReleaseFactory(board=board, name="2025.1")
    contacts = [
        Contact.objects.create(customer=org.customer, name=f"Contact {i}", email=f"c{i}@northwind.test")
        for i in range(3)
    ]
    parent = log_incident(title="The first report")
    full = []
    for n in range(2):
        incident = log_incident(title=f"Refunds fail {n}", description="Since the deploy.\nEvery card.")
        Incident.objects.filter(pk=incident.pk).update(
            customer=org.customer,
            requester=contacts[n],
            contact="Jo at Northwind",
            reporter=org.desk,
            assignee=org.engineer,
            parent=parent,
            caused_by_card=cards[2],
            caused_by_release=release,
            is_major=True,
            major_declared_at=NOW - timedelta(hours=1),
            priority_override_reason="Board escalation",
            status=Status.ON_HOLD,
            hold_reason="awaiting_customer",
            responded_at=NOW - timedelta(minutes=30),
            resolved_at=NOW - timedelta(minutes=5),
            resolution_note="Rolled back.",
            resolution_code="workaround",
            cancel_reason="n/a",
        )
        incident.refresh_from_db()
        incident.cc.set(contacts[1:])
        incident.participants.set([org.engineer, org.desk])
        board_services.card_link_incident(card=cards[n], incident=incident, actor=None)
        problem = Problem.objects.create(
            key=f"PRB-{n + 1}", title=f"Refund problem {n}", service=org.service, created_at=NOW
        )
        ProblemIncident.objects.create(problem=problem, incident=incident, linked_at=NOW)
        full.append(incident)
    bare = log_incident(title="Nothing else set")
    return [*full, bare, parent]


URLS = [
    "/api/v1/incidents/?page_size=50",
    "/api/v1/incidents/?page_size=50&status=open&sort=sla",
    "/api/v1/incidents/?page_size=50&sort=priority",
    "/api/v1/incidents/?page_size=50&sort=oldest",
    "/api/v1/incidents/?page_size=50&sort=updated",
    "/api/v1/incidents/?page_size=50&ordering=-priority",
    "/api/v1/incidents/?page_size=50&sla_state=running",
    "/api/v1/incidents/?page_size=50&priority={priority}&team={team}",
    "/api/v1/incidents/?page_size=2",
]


@pytest.mark.parametrize("url", URLS)
def test_the_lean_list_answers_what_the_full_serializer_answers(api, org, populated, frozen, url):
    api.as_user(org.desk)
    body = api.get(url.format(team=org.t1.pk, priority=populated[0].priority)).json()
    rows = body["results"]
    assert rows, body
    expected = _reference_rows([r["id"] for r in rows], org.desk)
    assert [list(r) for r in rows] == [list(e) for e in expected]  # same keys, same order
    assert rows == expected
    if url.endswith("page_size=2"):
        assert body["next"]


def test_every_field_is_populated_in_the_compared_rows(api, org, populated, frozen):
    """The comparison above is not vacuous: the full rows carry every optional part."""
    api.as_user(org.desk)
    rows = {r["id"]: r for r in api.get("/api/v1/incidents/?page_size=50").json()["results"]}
    row = rows[populated[0].pk]
    for name in (
        "customer", "requester", "reporter", "assignee", "assignee_name", "parent", "caused_by_card",
        "caused_by_release", "major_declared_at", "responded_at", "resolved_at", "fix_forecast", "problem",
    ):  # fmt: skip
        assert row[name] not in (None, "", []), name
    assert len(row["cc"]) == 2 and len(row["participants"]) == 2 and row["sla"]
    assert row["cards"][0]["assignee"]["username"] == "developer"
    assert row["parent"] == populated[-1].key
    assert rows[populated[2].pk]["fix_forecast"] is None and rows[populated[2].pk]["cards"] == []


def test_the_list_costs_the_same_queries_for_a_bigger_page(api, org, populated, log_incident):
    api.as_user(org.desk)
    url = "/api/v1/incidents/?page_size=50"
    api.get(url)
    with CaptureQueriesContext(connection) as small:
        assert api.get(url).status_code == 200
    for n in range(6):
        incident = log_incident(title=f"More {n}")
        incident.participants.add(org.engineer)
        Incident.objects.filter(pk=incident.pk).update(parent=populated[-1], customer=org.customer)
    api.get(url)
    with CaptureQueriesContext(connection) as large:
        assert len(api.get(url).json()["results"]) == 10
    assert len(large.captured_queries) == len(small.captured_queries)
    # The page of incidents is read without a join (their names come by id, one query each).
    pages = [q["sql"] for q in large.captured_queries if "LIMIT 51" in q["sql"]]
    assert pages and not any(" JOIN " in sql for sql in pages), pages


def test_services_create_keeps_answering_the_full_incident(api, org):
    """The single-incident answers (POST, detail) keep the full serializer."""
    api.as_user(org.desk)
    r = api.post(
        "/api/v1/incidents/",
        {"title": "Card declined", "service": org.service.pk, "impact": "high", "urgency": "high"},
        format="json",
    )
    assert r.status_code == 201, r.content
    created = r.json()
    assert created["service_name"] == "Payments API" and created["team_name"] == "Service Desk"
    detail = api.get(f"/api/v1/incidents/{created['id']}/").json()
    listed = api.get("/api/v1/incidents/?page_size=1").json()["results"][0]
    assert listed["id"] == detail["id"] and set(listed) == set(detail)


def test_the_one_statement_reads_equal_the_orm_reads(api, org, populated, frozen):
    """PostgreSQL reads a page's names, links and clocks in plain statements; other databases
    (SQLite, the embedded default) through the ORM. Both read the same, for rows with every
    relation set and for a bare one."""
    from incidents.selectors import _page_reads_by_kind, _page_reads_in_one_statement, incident_rows
    from sla.incident_reads import _page_timers_by_orm, _page_timers_in_sql

    rows = list(incident_rows().filter(pk__in=[i.pk for i in populated]).order_by("id"))
    by_orm = _page_reads_by_kind(rows)
    assert _page_reads_in_one_statement(rows) == by_orm
    assert by_orm.cards and by_orm.cc and by_orm.participants and by_orm.problems and by_orm.parent_keys
    ids = [row["id"] for row in rows]
    timers, calendars = _page_timers_by_orm(ids)
    assert timers and calendars, "the compared page has counting clocks on a calendar"
    assert _page_timers_in_sql(ids) == (timers, calendars)


def test_the_list_reads_a_page_in_eight_statements(api, org, populated):
    """The token with its user, the user's roles, the page, its names and links in one
    statement, the fix forecasts of its cards (two), its clocks and their calendars: the
    ORM's compiling of one small query per relation cost more than running them (issue 19)."""
    api.as_user(org.desk)
    url = "/api/v1/incidents/?page_size=50"
    api.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert api.get(url).status_code == 200
    assert len(queries.captured_queries) == 8, "\n".join(q["sql"][:100] for q in queries.captured_queries)


def test_a_priority_filtered_list_walks_the_priority_index(api, org, populated):
    """The list filtered by priority (with or without a team), newest first, reads its page
    off incident_priority_created instead of walking every newer incident."""
    from incidents.selectors import incident_rows

    qs = incident_rows().filter(priority="P1", team=org.t1).order_by("-created_at", "-id")[:51]
    with connection.cursor() as cursor:
        # The table is tiny: leave the planner no sequential scan or sort, to see what fits.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        sql, params = qs.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "incident_priority_created" in plan, plan


def test_each_answer_carries_the_version_the_next_edit_needs(api, org):
    """The answers of create and the actions (the lean read of a page of one) are what the
    next visit works from: saving again with the version just answered succeeds, every answer
    equals the detail read afterwards, and the escalating desk agent, no longer on the
    incident's team, is refused the next edit while the new team may make it."""
    api.as_user(org.desk)
    created = api.post(
        "/api/v1/incidents/",
        {"title": "Card declined", "service": org.service.pk, "impact": "high", "urgency": "high"},
        format="json",
    ).json()
    base = f"/api/v1/incidents/{created['id']}/"
    first = api.patch(
        base, {"title": "Card declined at checkout", "version": created["version"]}, format="json"
    )
    assert first.status_code == 200 and first.json()["version"] == created["version"] + 1
    again = api.patch(
        base, {"description": "Every Visa card.", "version": first.json()["version"]}, format="json"
    )
    assert again.status_code == 200, again.content
    assert again.json() == api.get(base).json()
    assert again.json()["title"] == "Card declined at checkout"
    escalated = api.post(
        base + "escalate/", {"team": org.t2.pk, "note": "Gateway logs", "version": again.json()["version"]},
        format="json",
    )  # fmt: skip
    assert escalated.status_code == 200 and escalated.json()["team_name"] == "Application Support"
    assert escalated.json() == api.get(base).json()
    refused = api.patch(base, {"title": "Mine again", "version": escalated.json()["version"]}, format="json")
    assert refused.status_code == 403
    api.as_user(org.engineer)
    taken = api.post(base + "take/", format="json")
    assert taken.status_code == 200 and taken.json()["assignee"] == org.engineer.pk
    assert api.get(base).json()["title"] == "Card declined at checkout"
    assert api.get("/api/v1/incidents/999999999/").status_code == 404

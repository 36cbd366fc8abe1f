"""The problem API and pages: every action through HTTP, the incident's `problem` field, the
log form's suggestions and one-click link, and fixed query counts for the lists."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from boards.models import ColumnCategory
from boards.services import card_move
from incidents.models import Status, TimeEntry
from problems.models import Problem, ProblemStatus
from problems.services import problem_create, problem_escalate_to_development, problem_update
from tests.boards.factories import column_of

pytestmark = pytest.mark.django_db


def _queries(call):
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code == 200, getattr(response, "content", b"")[:500]
    return len(ctx.captured_queries)


# ------------------------------------------------------------------ API
def test_api_create_read_patch_transition(api, engineer_user, log_incident, service):
    a, b = log_incident(), log_incident()
    api.as_user(engineer_user)
    created = api.post("/api/v1/problems/", {"title": "Login loop", "incidents": [a.pk, b.pk]}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["key"].startswith("PRB-") and body["status"] == "new"
    assert (
        body["incidents"] == sorted([a.pk, b.pk]) and body["service"] == service.pk and body["card"] is None
    )
    pk = body["id"]
    # bad input: 400 with the field
    assert api.post("/api/v1/problems/", {"title": ""}, format="json").json().keys() == {"title"}
    patched = api.patch(f"/api/v1/problems/{pk}/", {"workaround": "Clear cookies"}, format="json")
    assert patched.status_code == 200 and patched.json()["status"] == "known_error"
    assert patched.json()["known_error"] is True
    stale = api.patch(f"/api/v1/problems/{pk}/", {"title": "x", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale_object"
    refused = api.post(f"/api/v1/problems/{pk}/transition/", {"status": "investigating"}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "transition_not_allowed"
    missing = api.post(f"/api/v1/problems/{pk}/transition/", {"status": "resolved"}, format="json")
    assert missing.status_code == 400 and "root_cause" in missing.json()
    done = api.post(
        f"/api/v1/problems/{pk}/transition/", {"status": "resolved", "root_cause": "Cookie"}, format="json"
    )
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    history = api.get(f"/api/v1/problems/{pk}/history/").json()["results"]
    assert [e["event"] for e in history][:3] == ["created", "incident_linked", "incident_linked"]
    # the incident reads its problem
    assert api.get(f"/api/v1/incidents/{a.pk}/").json()["problem"] == pk
    listed = {row["id"]: row["problem"] for row in api.get("/api/v1/incidents/").json()["results"]}
    assert listed[a.pk] == pk
    assert api.get("/api/v1/problems/?status=resolved").json()["results"][0]["id"] == pk
    assert api.get("/api/v1/problems/?status=open").json()["results"] == []


def test_api_link_unlink_with_refusals(api, engineer_user, log_incident):
    a, b = log_incident(), log_incident()
    mine = problem_create(actor=engineer_user, title="Mine", incidents=[a])
    other = problem_create(actor=engineer_user, title="Other", incidents=[b])
    api.as_user(engineer_user)
    out = api.post(f"/api/v1/problems/{mine.pk}/link/", {"incidents": [a.pk, b.pk]}, format="json").json()
    assert out["already"] == [a.pk] and out["linked"] == [] and other.key in out["refused"][b.key]
    assert (
        api.post(f"/api/v1/problems/{mine.pk}/link/", {"incidents": [999999]}, format="json").status_code
        == 400
    )
    assert (
        api.post(f"/api/v1/problems/{mine.pk}/unlink/", {"incident": a.pk}, format="json").status_code == 200
    )
    assert (
        api.post(f"/api/v1/problems/{mine.pk}/unlink/", {"incident": a.pk}, format="json").status_code == 400
    )


def test_api_escalate_preview_then_escalate_and_resolve_together(
    api, engineer_user, tier2_incident, board, django_capture_on_commit_callbacks
):
    incidents = [tier2_incident(), tier2_incident()]
    problem = problem_create(actor=engineer_user, title="Checkout fails", incidents=incidents)
    api.as_user(engineer_user)
    url = f"/api/v1/problems/{problem.pk}/escalate-to-development/"
    preview = api.get(url)
    assert preview.status_code == 200 and preview.json()["preview"] is True
    assert Problem.objects.get(pk=problem.pk).card_id is None
    made = api.post(url, {"note": "Trace attached"}, format="json")
    assert made.status_code == 201, made.content
    body = made.json()
    assert sorted(body["escalated"]) == sorted(i.pk for i in incidents)
    assert sorted(body["card"]["incidents"]) == sorted(i.pk for i in incidents)
    again = api.post(url, {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_escalated"
    resolved = api.post(
        f"/api/v1/problems/{problem.pk}/resolve-incidents/", {"note": "Fixed in 4.2"}, format="json"
    ).json()
    assert sorted(resolved["done"]) == sorted(i.pk for i in incidents) and resolved["refused"] == {}


def test_api_suggestions(api, desk_user, engineer_user, log_incident, service):
    known = problem_create(
        actor=engineer_user, title="Safari login loop", workaround="Clear cookies", incidents=[log_incident()]
    )
    open_one = log_incident(title="Login keeps looping in Safari")
    api.as_user(desk_user)
    rows = api.get(f"/api/v1/problems/suggestions/?service={service.pk}&title=Safari+login+loops").json()[
        "results"
    ]
    kinds = {(r["type"], r["key"]) for r in rows}
    assert ("problem", known.key) in kinds and ("incident", open_one.key) in kinds
    assert api.get("/api/v1/problems/suggestions/?title=printer+toner").json()["results"] == []


# ------------------------------------------------------------------ pages
def test_create_page_preselects_incidents_and_keeps_input_on_error(client, engineer_user, log_incident):
    a, b = log_incident(title="Login loop"), log_incident(title="Login loops")
    client.force_login(engineer_user)
    page = client.get(f"/problems/new/?incidents={a.pk},{b.pk}")
    assert page.status_code == 200 and a.key in page.content.decode() and b.key in page.content.decode()
    bad = client.post("/problems/new/", {"title": "", "incidents": f"{a.key} NOTAKEY"})
    assert bad.status_code == 400
    assert "Not an incident key" in bad.content.decode() and f"{a.key} NOTAKEY" in bad.content.decode()
    ok = client.post("/problems/new/", {"title": "Login loop", "incidents": f"{a.key}, {b.key}"})
    problem = Problem.objects.get()
    assert ok.status_code == 302 and ok["Location"] == f"/problems/{problem.key}/"
    assert problem.incidents.count() == 2


def test_detail_edit_twice_and_transition(client, engineer_user, log_incident):
    problem = problem_create(actor=engineer_user, title="P", incidents=[log_incident()])
    client.force_login(engineer_user)
    page = client.get(f"/problems/{problem.key}/")
    assert page.status_code == 200
    form = {
        "version": problem.version,
        "title": "P",
        "description": "",
        "root_cause": "",
        "workaround": "Retry",
    }
    assert client.post(f"/problems/{problem.key}/edit/", form).status_code == 302
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.KNOWN_ERROR
    # the second visit: reopen the form and save again
    again = {**form, "version": problem.version, "root_cause": "A race"}
    assert client.post(f"/problems/{problem.key}/edit/", again).status_code == 302
    # a stale form is refused with the text kept
    stale = client.post(f"/problems/{problem.key}/edit/", {**form, "title": "Typed text"})
    assert stale.status_code == 409 and "Typed text" in stale.content.decode()
    closed = client.post(f"/problems/{problem.key}/transition/", {"status": "closed"})
    assert closed.status_code == 302
    assert "Change status" not in client.get(f"/problems/{problem.key}/").content.decode()


def test_desk_may_link_but_not_edit(client, desk_user, engineer_user, log_incident):
    problem = problem_create(actor=engineer_user, title="P")
    incident = log_incident()
    client.force_login(desk_user)
    assert client.post(f"/problems/{problem.key}/edit/", {"title": "x"}).status_code == 403
    assert client.post(f"/problems/{problem.key}/link/", {"incidents": incident.key}).status_code == 302
    assert problem.incidents.filter(pk=incident.pk).exists()
    assert client.get("/problems/report/").status_code == 403


def test_incident_page_shows_the_workaround_and_proposes_a_problem_for_a_major(
    client, engineer_user, manager_user, log_incident
):
    from incidents.services import incident_declare_major

    known = log_incident()
    problem_create(actor=engineer_user, title="P", workaround="Use the mobile app", incidents=[known])
    client.force_login(engineer_user)
    page = client.get(f"/incidents/{known.key}/").content.decode()
    assert "Known error" in page and "Use the mobile app" in page
    major = incident_declare_major(incident=log_incident(), actor=manager_user)
    page = client.get(f"/incidents/{major.key}/").content.decode()
    assert "A major incident usually has a cause worth finding" in page
    assert f"/problems/new/?incident={major.key}" in page


def test_link_from_the_incident_page(client, engineer_user, log_incident):
    problem = problem_create(actor=engineer_user, title="P")
    incident = log_incident()
    client.force_login(engineer_user)
    response = client.post(f"/problems/incident/{incident.key}/link/", {"problem-problem": problem.pk})
    assert response.status_code == 302 and problem.incidents.filter(pk=incident.pk).exists()


def test_log_form_suggests_and_links_in_one_click(client, desk_user, engineer_user, log_incident, service):
    known = problem_create(
        actor=engineer_user, title="Safari login loop", workaround="Clear cookies", incidents=[log_incident()]
    )
    client.force_login(desk_user)
    fragment = client.get(
        "/problems/suggestions/", {"service": service.pk, "title": "Login loops on Safari", "description": ""}
    ).content.decode()
    assert known.key in fragment and "Clear cookies" in fragment and f'value="{known.key}"' in fragment
    form = {"title": "Login loops on Safari", "service": service.pk, "type": "incident", "impact": "low"}
    form |= {"urgency": "low", "problem": known.key}
    response = client.post("/incidents/new/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert known.incidents.count() == 2
    # a closed problem refuses: nothing is logged, the form says why
    from problems.services import problem_transition

    problem_transition(problem=known, actor=engineer_user, status="closed")
    from incidents.models import Incident

    before = Incident.objects.count()
    refused = client.post("/incidents/new/", form)
    assert refused.status_code == 400 and "closed" in refused.content.decode()
    assert Incident.objects.count() == before


def test_same_as_an_open_incident_groups_both_in_a_problem(client, desk_user, log_incident, service):
    other = log_incident(title="Export to Excel hangs")
    client.force_login(desk_user)
    form = {"title": "Excel export hangs", "service": service.pk, "type": "incident", "impact": "low"}
    response = client.post("/incidents/new/", {**form, "urgency": "low", "same_as": other.key})
    assert response.status_code == 302
    problem = Problem.objects.get()
    assert problem.title == other.title and problem.incidents.count() == 2


def test_resolve_page_resolves_the_ticked_incidents(client, engineer_user, tier2_incident):
    keep, go = tier2_incident(), tier2_incident()
    problem = problem_create(actor=engineer_user, title="P", incidents=[keep, go])
    client.force_login(engineer_user)
    page = client.get(f"/problems/{problem.key}/resolve/").content.decode()
    assert page.count('type="checkbox" name="incidents"') == 2 and page.count("checked") == 2
    bad = client.post(f"/problems/{problem.key}/resolve/", {"incidents": [go.pk], "resolution_code": "fixed"})
    assert bad.status_code == 400  # no root cause, no note
    data = {
        "root_cause": "Bad config",
        "incidents": [go.pk],
        "resolution_code": "workaround",
        "note": "Reset it",
    }
    assert client.post(f"/problems/{problem.key}/resolve/", data).status_code == 302
    keep.refresh_from_db()
    go.refresh_from_db()
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.RESOLVED
    assert go.status == Status.RESOLVED and go.resolution_code == "workaround" and keep.is_open
    # the second visit offers the incident still open
    again = client.get(f"/problems/{problem.key}/resolve/").content.decode()
    assert keep.key in again and go.key not in again


def test_card_page_shows_who_waits(client, engineer_user, developer_user, tier2_incident, board, customers):
    incidents = [tier2_incident(customer=c) for c in customers[:2]]
    problem = problem_create(actor=engineer_user, title="P", incidents=incidents)
    card = problem_escalate_to_development(problem=problem, actor=engineer_user).card
    client.force_login(developer_user)
    page = client.get(f"/boards/cards/{card.pk}/").content.decode()
    assert "2 open incidents, 2 customers" in page
    card_move(card=card, column=column_of(board, ColumnCategory.DONE), actor=developer_user)
    page = client.get(f"/problems/{problem.key}/").content.decode()
    assert f"Development finished {card.key}" in page


# ------------------------------------------------------------------ fixed query counts
def _many(engineer_user, log_incident, customers, n):
    for i in range(n):
        incidents = [log_incident(customer=customers[j % 3]) for j in range(2)]
        problem = problem_create(actor=engineer_user, title=f"Problem {i}", incidents=incidents)
        problem_update(
            problem=problem, actor=engineer_user, owner=engineer_user, workaround="w" if i % 2 else ""
        )
        TimeEntry.objects.create(
            incident=incidents[0], user=engineer_user, minutes=30, created_at=incidents[0].created_at
        )


@pytest.mark.parametrize("url", ["/problems/", "/problems/?status=&sort=incidents", "/problems/report/"])
def test_lists_have_a_fixed_query_count(client, manager_user, engineer_user, log_incident, customers, url):
    client.force_login(manager_user)
    _many(engineer_user, log_incident, customers, 2)
    small = _queries(lambda: client.get(url))
    _many(engineer_user, log_incident, customers, 6)
    assert _queries(lambda: client.get(url)) == small


def test_api_list_has_a_fixed_query_count(api, engineer_user, log_incident, customers):
    api.as_user(engineer_user)
    _many(engineer_user, log_incident, customers, 2)
    small = _queries(lambda: api.get("/api/v1/problems/"))
    _many(engineer_user, log_incident, customers, 6)
    assert _queries(lambda: api.get("/api/v1/problems/")) == small


def test_report_figures(client, manager_user, engineer_user, log_incident, customers):
    _many(engineer_user, log_incident, customers, 1)
    client.force_login(manager_user)
    from problems.selectors import problem_report

    (row,) = problem_report()
    assert (row.incident_count, row.customer_count, row.effort_minutes) == (2, 2, 30)
    assert row.outage_hours >= 0 and row.age_days == 0
    assert "Problem 0" in client.get("/problems/report/?sort=customers").content.decode()


def test_admin_writes_through_the_services(client, admin_user, engineer_user):
    from tests.test_admin_writes import form_of

    client.force_login(admin_user)
    form = {"title": "Slow reports", "description": "", "root_cause": "", "workaround": "Run them at night"}
    form |= {
        "service": "",
        "owner": "",
        "incident_links-TOTAL_FORMS": "0",
        "incident_links-INITIAL_FORMS": "0",
    }
    created = client.post("/admin/problems/problem/add/", form)
    assert created.status_code == 302, created.content.decode()[:3000]
    problem = Problem.objects.get()
    assert problem.key.startswith("PRB-") and problem.status == ProblemStatus.KNOWN_ERROR  # the rule held
    url = f"/admin/problems/problem/{problem.pk}/change/"
    data = form_of(client, url)
    data["workaround"] = [""]
    assert client.post(url, data).status_code == 302
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.INVESTIGATING
    assert list(problem.events.values_list("event", flat=True)) == [
        "created",
        "field_changed",
        "status_changed",
    ]
    # the second visit saves again, changing nothing
    assert client.post(url, form_of(client, url)).status_code == 302
    assert problem.events.count() == 3

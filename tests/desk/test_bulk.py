"""Bulk actions: each selected incident through the incidents services and predicates in its
own transaction; mixed outcomes reported per incident; whole-request input errors as 400;
the page's summary; the query count per incident."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from desk.services import BulkInput, incidents_bulk_act
from incidents import services as incident_services
from incidents.models import Comment, Incident, Status


@pytest.fixture
def three(org, log_incident):
    """Three incidents with the service desk team (tier 1); the third is closed."""
    a = log_incident(title="A")
    b = log_incident(title="B")
    c = log_incident(title="C")
    incident_services.incident_transition(
        incident=c, actor=org.desk, status=Status.RESOLVED, resolution_code="fixed", note="Done"
    )
    incident_services.incident_transition(incident=c, actor=org.desk, status=Status.CLOSED)
    return tuple(Incident.objects.get(pk=i.pk) for i in (a, b, c))


def _codes(result):
    return {r.key: r.code for r in result.refused}


def test_mixed_outcomes_each_incident_on_its_own(org, three):
    a, b, c = three
    result = incidents_bulk_act(
        actor=org.desk,
        action="transition",
        incidents=[a.pk, c.pk, b.pk, 999999],
        data=BulkInput(status=Status.IN_PROGRESS, note="Looking at these together"),
    )
    assert [d.key for d in result.done] == [a.key, b.key]
    assert result.done[0].detail == "New → In progress"
    assert _codes(result) == {c.key: "transition_not_allowed", None: "not_found"}
    assert f"{c.key} cannot go from closed to in_progress" in result.refused[0].detail
    assert Incident.objects.get(pk=a.pk).status == Incident.objects.get(pk=b.pk).status == Status.IN_PROGRESS


def test_one_refusal_does_not_roll_back_the_others(org, three):
    """A refusal inside the service (after the lock, mid-transaction) undoes that incident
    only: the one before and the one after stay changed."""
    a, b, c = three
    incident_services.incident_escalate(incident=b, actor=org.desk, team=org.t2, note="to tier 2")
    # b is with tier 2 now: assigning it to the desk agent (not in that team) is refused by
    # the assign service's own check, inside b's transaction.
    result = incidents_bulk_act(
        actor=org.manager,
        action="assign",
        incidents=[a.pk, b.pk, c.pk],
        data=BulkInput(assignee=org.desk, note="Taking these over"),
    )
    assert [d.key for d in result.done] == [a.key, c.key]
    assert _codes(result) == {b.key: "invalid"}
    assert "not a member of Application Support" in result.refused[0].detail
    assert Incident.objects.get(pk=a.pk).assignee == org.desk
    assert Incident.objects.get(pk=b.pk).assignee is None
    # the note came with the assignment, in the same transaction: none on the refused one
    assert set(Comment.objects.values_list("incident__key", flat=True)) == {a.key, c.key}
    assert Comment.objects.filter(public=False, body="Taking these over").count() == 2


def test_permission_refusals_use_the_incident_predicates(org, three):
    a, b, c = three
    incident_services.incident_escalate(incident=b, actor=org.desk, team=org.t2, note="to tier 2")
    result = incidents_bulk_act(
        actor=org.desk, action="assign", incidents=[a.pk, b.pk], data=BulkInput(assignee=org.desk)
    )
    assert [d.key for d in result.done] == [a.key]
    assert _codes(result) == {b.key: "forbidden"}
    assert "only its team, its assignee or a manager" in result.refused[0].detail
    # a note is open to every support role, whatever the team
    result = incidents_bulk_act(actor=org.desk, action="note", incidents=[b.pk], data=BulkInput(note="FYI"))
    assert [d.key for d in result.done] == [b.key]


def test_a_stale_version_is_a_conflict_for_that_incident_only(org, three):
    a, b, _ = three
    seen = {a.pk: a.version, b.pk: b.version}
    incident_services.incident_take(incident=b, actor=org.desk)  # someone moves b on meanwhile
    result = incidents_bulk_act(
        actor=org.desk,
        action="transition",
        incidents=[a.pk, b.pk],
        data=BulkInput(status=Status.ON_HOLD, reason="awaiting_customer"),
        versions=seen,
    )
    assert [d.key for d in result.done] == [a.key]
    assert _codes(result) == {b.key: "stale_object"}
    assert "changed by someone else" in result.refused[0].detail
    assert Incident.objects.get(pk=b.pk).status == Status.IN_PROGRESS


@pytest.mark.parametrize(
    ("action", "data", "field"),
    [
        ("explode", {}, "action"),
        ("transition", {"status": "nowhere"}, "status"),
        ("transition", {"status": "on_hold"}, "reason"),
        ("transition", {"status": "resolved", "note": "x"}, "resolution_code"),
        ("transition", {"status": "resolved", "resolution_code": "fixed"}, "note"),
        ("transition", {"status": "cancelled"}, "reason"),
        ("note", {"note": "  "}, "note"),
    ],
)
def test_input_wrong_for_all_is_refused_before_anything_runs(api, org, three, action, data, field):
    a, b, _ = three
    r = api.as_user(org.manager).post(
        "/api/v1/incidents/bulk/", {"incidents": [a.pk, b.pk], "action": action, **data}, format="json"
    )
    assert r.status_code == 400 and field in r.json(), r.content
    assert Incident.objects.get(pk=a.pk).version == a.version


def test_api_bulk(api, org, three):
    a, b, c = three
    r = api.as_user(org.desk).post(
        "/api/v1/incidents/bulk/",
        {
            "incidents": [a.pk, b.pk, c.pk],
            "action": "assign",
            "assignee": "me",
            "versions": {str(a.pk): a.version},
        },
        format="json",
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert [d["key"] for d in body["done"]] == [a.key, b.key, c.key]
    assert body["refused"] == [] and body["action"] == "assign"
    r = api.as_user(org.desk).post(
        "/api/v1/incidents/bulk/", {"incidents": [a.pk], "action": "assign", "assignee": None}, format="json"
    )
    assert r.status_code == 200 and r.json()["done"][0]["detail"] == "assigned to nobody"
    for bad, field in [
        ({"incidents": [], "action": "note", "note": "x"}, "incidents"),
        ({"incidents": list(range(1, 202)), "action": "note", "note": "x"}, "incidents"),
        ({"incidents": ["one"], "action": "note", "note": "x"}, "incidents"),
        ({"incidents": [a.pk], "action": "assign"}, "assignee"),
        ({"incidents": [a.pk], "action": "assign", "assignee": 99999}, "assignee"),
        ({"incidents": [a.pk], "action": "note", "note": "x", "versions": {"a": 1}}, "versions"),
    ]:
        r = api.as_user(org.desk).post("/api/v1/incidents/bulk/", bad, format="json")
        assert r.status_code == 400 and field in r.json(), (bad, r.content)
    assert (
        api.as_user(org.po)
        .post("/api/v1/incidents/bulk/", {"incidents": [a.pk], "action": "note", "note": "x"}, format="json")
        .status_code
        == 403
    )


def test_the_page_runs_the_bar_and_shows_the_summary(client, org, three):
    a, b, c = three
    client.force_login(org.desk)
    queue = reverse("incidents:queue") + "?status="
    html = client.get(queue).content.decode()
    assert f'value="{a.pk}:{a.version}" form="bulk-form"' in html and 'data-select-all="bulk-form"' in html
    incident_services.incident_take(incident=b, actor=org.desk)  # b moves on after the page was read
    r = client.post(
        reverse("desk:bulk"),
        {
            "incidents": [f"{a.pk}:{a.version}", f"{b.pk}:{b.version}", f"{c.pk}:{c.version}"],
            "action": "transition",
            "status": "on_hold",
            "hold_reason": "awaiting_vendor",
            "next": queue,
        },
    )
    assert r.status_code == 302
    summary = client.get(r["Location"])
    html = summary.content.decode()
    assert "Change status: 1 done, 2 refused" in html
    assert "changed by someone else" in html and "cannot go from closed to on_hold" in html
    assert f'href="{queue}"' in html  # back to the same queue
    # reloading the summary runs nothing again
    assert client.get(r["Location"]).status_code == 200
    assert Incident.objects.get(pk=a.pk).status == Status.ON_HOLD


def test_the_page_keeps_the_selection_and_input_on_a_whole_request_error(client, org, three):
    a, b, _ = three
    client.force_login(org.desk)
    r = client.post(
        reverse("desk:bulk"),
        {
            "incidents": [f"{a.pk}:{a.version}", f"{b.pk}:{b.version}"],
            "action": "transition",
            "status": "resolved",
            "note": "Patched",
        },
    )
    html = r.content.decode()
    assert r.status_code == 400 and "Choose a resolution code" in html
    assert f'value="{a.pk}:{a.version}" checked' in html and "Patched" in html
    assert client.post(reverse("desk:bulk"), {"action": "note", "note": "x"}).status_code == 400
    client.force_login(org.po)
    assert (
        client.post(reverse("desk:bulk"), {"incidents": [a.pk], "action": "note", "note": "x"}).status_code
        == 403
    )


# ------------------------------------------------------------------ query counts
def _queries(call):
    with CaptureQueriesContext(connection) as ctx:
        call()
    return len(ctx.captured_queries)


def test_bulk_queries_grow_by_a_constant_per_incident(org, log_incident, django_capture_on_commit_callbacks):
    """The per-incident work is the services' (see desk/services/bulk.py); nothing else grows.
    Measured: 3 queries for the selection, then per incident assign 10 (+7 with its note:
    the comment, its history row, the lock), a note 9, a transition 13."""

    def run(n):
        ids = [log_incident(title=f"Q{n}-{i}").pk for i in range(n)]
        return _queries(
            lambda: incidents_bulk_act(
                actor=org.desk, action="assign", incidents=ids, data=BulkInput(assignee=org.desk, note="mine")
            )
        )

    run(1)  # warm caches (content types, roles)
    two, four, eight = run(2), run(4), run(8)
    per_incident = (four - two) // 2
    assert four - two == 2 * per_incident and eight - four == 4 * per_incident, (two, four, eight)
    assert per_incident <= 40, per_incident


def test_queue_page_with_views_and_checkboxes_has_a_fixed_query_count(client, org, log_incident):
    from desk.services import saved_view_create

    client.force_login(org.desk)
    url = reverse("incidents:queue") + "?tab=all&sort=sla"

    def page():
        r = client.get(url)
        assert r.status_code == 200 and 'form="bulk-form"' in r.content.decode()
        return r

    for i in range(2):
        log_incident(title=f"few {i}")
        saved_view_create(actor=org.desk, name=f"v{i}", query={"priority": "P1"}, team=org.t1 if i else None)
    small = _queries(page)
    for i in range(20):
        log_incident(title=f"many {i}")
        saved_view_create(
            actor=org.desk, name=f"w{i}", query={"priority": "P2"}, team=org.t1 if i % 2 else None
        )
    large = _queries(page)
    assert large == small, (small, large)


# ------------------------------------------------------------------ link to a problem
def test_link_to_a_problem_through_the_problems_service(api, org, three):
    from problems.services import problem_create, problem_transition

    a, b, c = three
    other = problem_create(actor=org.engineer, title="Another cause", incidents=[b])
    problem = problem_create(actor=org.engineer, title="Payments gateway flaps")
    r = api.as_user(org.engineer).post(
        "/api/v1/incidents/bulk/",
        {
            "incidents": [a.pk, b.pk, c.pk],
            "action": "link_problem",
            "problem": problem.pk,
            "note": "Same cause",
        },
        format="json",
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert [d["key"] for d in body["done"]] == [a.key, c.key]
    assert body["done"][0]["detail"] == f"linked to {problem.key}; note added"
    assert [(x["key"], x["code"]) for x in body["refused"]] == [(b.key, "link_refused")]
    assert other.key in body["refused"][0]["detail"]
    assert set(problem.incident_links.values_list("incident__key", flat=True)) == {a.key, c.key}
    # again: already linked is done, not refused
    r = api.as_user(org.engineer).post(
        "/api/v1/incidents/bulk/",
        {"incidents": [a.pk], "action": "link_problem", "problem": problem.pk},
        format="json",
    )
    assert r.json()["done"][0]["detail"] == f"already linked to {problem.key}"
    # a closed problem takes no incidents: refused as a whole
    problem_transition(problem=other, actor=org.engineer, status="closed", note="Gone")
    r = api.as_user(org.engineer).post(
        "/api/v1/incidents/bulk/",
        {"incidents": [a.pk], "action": "link_problem", "problem": other.pk},
        format="json",
    )
    assert r.status_code == 400 and "takes no more incidents" in r.json()["problem"][0]
    r = api.as_user(org.engineer).post(
        "/api/v1/incidents/bulk/", {"incidents": [a.pk], "action": "link_problem"}, format="json"
    )
    assert r.status_code == 400 and "problem" in r.json()


def test_create_a_problem_from_the_selection(client, org, three):
    a, b, _ = three
    client.force_login(org.desk)
    html = client.get(reverse("incidents:queue")).content.decode()
    assert "Create a problem from selected" in html and "Link to a problem" in html
    r = client.post(reverse("desk:bulk"), {"incidents": [f"{a.pk}:1", f"{b.pk}:1"], "create_problem": "1"})
    assert r.status_code == 302 and r["Location"] == reverse("problems:create") + f"?incidents={a.pk},{b.pk}"
    r = client.post(reverse("desk:bulk"), {"create_problem": "1", "next": "/incidents/?priority=P1"})
    assert r.status_code == 302 and r["Location"] == "/incidents/?priority=P1"

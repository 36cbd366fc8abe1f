"""Saved views: the services' rules, who sees and changes a view (API and pages), saving from
the queue and reopening it, the second visit (update the open view, or save as new), and
fixed query counts for the lists."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from desk.models import SavedView
from desk.services import saved_view_create, saved_view_query, saved_view_update
from tests.factories import TeamFactory


# ------------------------------------------------------------------ services
def test_the_query_keeps_known_filters_and_drops_blanks(org, contoso):
    query = saved_view_query(
        {
            "status": "open",
            "customer": contoso.pk,
            "created_from": "2026-12-01",
            "search": " ",
            "sort": "priority",
        }
    )
    assert query == {
        "status": "open",
        "customer": str(contoso.pk),
        "created_from": "2026-12-01",
        "sort": "priority",
    }


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"colour": "red"}, "colour: not a queue filter"),
        ({"priority": "P9"}, "priority:"),
        ({"customer": "999999"}, "customer:"),
        ({"created_from": "monday"}, "created_from:"),
        ({"created_from": "2026-12-05", "created_to": "2026-12-01"}, "created_to: The end of the range"),
        ({"sort": "random"}, "sort: use one of"),
        ({"tab": "elsewhere"}, "tab: use one of"),
        ({"status": ["open", "new"]}, "status: give one value"),
        ("status=open", "Give the filters as an object"),
    ],
)
def test_a_query_the_queue_would_refuse_is_refused(org, query, says):
    with pytest.raises(ValidationError) as exc:
        saved_view_query(query)
    assert any(says in m for m in exc.value.message_dict["query"]), exc.value.message_dict


def test_names_are_required_and_unique_per_owner_ignoring_case(org, desk2):
    saved_view_create(actor=org.desk, name="Contoso", query={})
    with pytest.raises(ValidationError) as exc:
        saved_view_create(actor=org.desk, name="  contoso ", query={})
    assert "already has a view" in exc.value.message_dict["name"][0]
    with pytest.raises(ValidationError) as exc:
        saved_view_create(actor=org.desk, name=" ", query={"priority": "P9"})
    assert set(exc.value.message_dict) == {"name", "query"}  # every problem at once
    assert saved_view_create(actor=desk2, name="Contoso", query={}).owner == desk2  # another owner may


def test_a_view_is_shared_only_with_the_sharers_team(org):
    with pytest.raises(ValidationError) as exc:
        saved_view_create(actor=org.desk, name="Tier two", query={}, team=org.t2)
    assert "only with a team you belong to" in exc.value.message_dict["team"][0]
    assert saved_view_create(actor=org.desk, name="Desk", query={}, team=org.t1).team == org.t1
    # a manager shares with any team
    assert saved_view_create(actor=org.manager, name="For T2", query={}, team=org.t2).team == org.t2


def test_update_renames_shares_unshares_and_keeps_the_owner(org):
    view = saved_view_create(actor=org.desk, name="Mine", query={"priority": "P1"})
    view = saved_view_update(view=view, actor=org.desk, name="P1s", team=org.t1)
    assert (view.name, view.team, view.query) == ("P1s", org.t1, {"priority": "P1"})
    view = saved_view_update(view=view, actor=org.manager, query={"priority": "P2"}, team=None)
    assert (view.owner, view.team, view.query) == (org.desk, None, {"priority": "P2"})


# ------------------------------------------------------------------ the API and who sees what
@pytest.fixture
def views(org, desk2):
    """desk's personal view, desk's view shared with the service desk team, engineer's personal."""
    return {
        "personal": saved_view_create(actor=org.desk, name="My P1s", query={"priority": "P1"}),
        "shared": saved_view_create(
            actor=org.desk, name="Desk: Northwind", query={"customer": org.customer.pk}, team=org.t1
        ),
        "engineer": saved_view_create(actor=org.engineer, name="Mine too", query={}),
    }


def _names(api, user):
    r = api.as_user(user).get("/api/v1/saved-views/")
    assert r.status_code == 200, r.content
    return sorted(v["name"] for v in r.json()["results"])


def test_who_sees_which_view(api, org, desk2, views):
    assert _names(api, org.desk) == ["Desk: Northwind", "My P1s"]
    assert _names(api, desk2) == ["Desk: Northwind"]  # a team member: the shared one only
    assert _names(api, org.engineer) == ["Mine too"]  # another team: not desk's
    assert _names(api, org.manager) == ["Desk: Northwind"]  # every shared view, no personal one
    for user, name, status in [
        (desk2, "personal", 404),
        (org.engineer, "shared", 404),
        (desk2, "shared", 200),
        (org.manager, "personal", 404),
    ]:
        assert api.as_user(user).get(f"/api/v1/saved-views/{views[name].pk}/").status_code == status
    assert api.as_user(org.norole).get("/api/v1/saved-views/").status_code == 403
    assert api.as_user(org.norole).get(f"/api/v1/saved-views/{views['shared'].pk}/").status_code == 404


def test_who_changes_which_view(api, org, desk2, views):
    shared = f"/api/v1/saved-views/{views['shared'].pk}/"
    r = api.as_user(desk2).patch(shared, {"name": "Taken over"}, format="json")
    assert r.status_code == 403 and "owner or a manager" in r.json()["detail"]
    assert api.as_user(desk2).delete(shared).status_code == 403
    r = api.as_user(org.manager).patch(shared, {"name": "Northwind (desk)"}, format="json")
    assert (
        r.status_code == 200 and r.json()["name"] == "Northwind (desk)" and r.json()["owner"] == org.desk.pk
    )
    r = api.as_user(org.desk).patch(shared, {"team": None}, format="json")  # unshare
    assert r.status_code == 200 and r.json()["shared"] is False
    assert api.as_user(desk2).get(shared).status_code == 404
    assert api.as_user(org.desk).delete(shared).status_code == 204
    assert not SavedView.objects.filter(pk=views["shared"].pk).exists()


def test_api_create_and_its_400s(api, org, contoso):
    api.as_user(org.desk)
    body = {
        "name": "Contoso this week",
        "team": org.t1.pk,
        "query": {"customer": contoso.pk, "created_from": "2026-12-01", "sort": "updated"},
    }
    r = api.post("/api/v1/saved-views/", body, format="json")
    assert r.status_code == 201, r.content
    got = r.json()
    assert got["query"] == {"customer": str(contoso.pk), "created_from": "2026-12-01", "sort": "updated"}
    assert got["shared"] and got["team"] == org.t1.pk and got["can_edit"] is True
    assert parse_qs(urlsplit(got["url"]).query)["customer"] == [str(contoso.pk)]
    for bad, field in [
        ({**body, "name": ""}, "name"),
        (body, "name"),  # the same name again
        ({**body, "name": "x", "query": {"created_to": "soon"}}, "query"),
        ({**body, "name": "y", "query": ["status"]}, "query"),
        ({**body, "name": "z", "team": org.t2.pk}, "team"),
        ({**body, "name": "w", "team": 99999}, "team"),
    ]:
        r = api.post("/api/v1/saved-views/", bad, format="json")
        assert r.status_code == 400 and field in r.json(), (bad, r.content)
    r = api.patch(f"/api/v1/saved-views/{got['id']}/", {"query": {"priority": "P0"}}, format="json")
    assert r.status_code == 400 and "query" in r.json()
    assert SavedView.objects.get(pk=got["id"]).query["sort"] == "updated"  # nothing half-written


# ------------------------------------------------------------------ the queue page
def test_save_the_queue_as_a_view_and_reopen_it(client, org, desk2, contoso, log_incident):
    log_incident(title="Contoso down", customer=contoso)
    log_incident(title="Northwind slow", customer=org.customer)
    client.force_login(org.desk)
    queue = reverse("incidents:queue")
    page = client.get(queue + f"?customer={contoso.pk}&created_from=2020-01-01&sort=priority")
    html = page.content.decode()
    assert "Save this view" in html and 'name="query"' in html
    query = page.context["queue_extras"][0].context["encoded_query"]
    assert parse_qs(query) == {
        "status": ["open"],
        "customer": [str(contoso.pk)],
        "created_from": ["2020-01-01"],
        "sort": ["priority"],
    }
    r = client.post(
        reverse("desk:view_create"), {"name": "Contoso", "team": org.t1.pk, "query": query, "next": queue}
    )
    view = SavedView.objects.get(name="Contoso")
    assert r.status_code == 302 and r["Location"].endswith(f"view={view.pk}")
    assert view.team == org.t1 and view.query["customer"] == str(contoso.pk)

    # Another member of the team opens it from their queue.
    client.force_login(desk2)
    html = client.get(queue).content.decode()
    assert "My teams’:" in html and "Contoso" in html
    opened = client.get(r["Location"])
    assert [row["title"] for row in opened.context["rows"]] == ["Contoso down"]
    assert "Showing <strong>Contoso</strong>" in opened.content.decode()
    assert f'name="view" value="{view.pk}"' in opened.content.decode()  # the filter form keeps it open


def test_second_visit_update_the_open_view_or_save_as_new(client, org, contoso):
    view = saved_view_create(actor=org.desk, name="Contoso", query={"status": "open", "customer": contoso.pk})
    client.force_login(org.desk)
    queue = reverse("incidents:queue")
    r = client.get(queue + f"?status=open&customer={contoso.pk}&view={view.pk}")
    assert r.context["queue_extras"][0].context["modified"] is False
    # change a filter: the view is still open, marked changed, with Update and Save as new
    r = client.get(queue + f"?status=open&customer={contoso.pk}&priority=P1&view={view.pk}")
    extra = r.context["queue_extras"][0].context
    html = r.content.decode()
    assert extra["modified"] is True and "Update “Contoso”" in html and "Save as new" in html
    r = client.post(
        reverse("desk:view_update_query", kwargs={"pk": view.pk}), {"query": extra["encoded_query"]}
    )
    view.refresh_from_db()
    assert r.status_code == 302 and view.query == {
        "status": "open",
        "customer": str(contoso.pk),
        "priority": "P1",
    }
    # save as new: the open view stays as it is
    r = client.post(reverse("desk:view_create"), {"name": "Contoso P1", "query": "status=open&priority=P1"})
    assert r.status_code == 302 and SavedView.objects.filter(owner=org.desk).count() == 2
    # the same name again: the error next to the field, what was typed kept, 400
    r = client.post(reverse("desk:view_create"), {"name": "contoso p1", "query": "status=open"})
    assert r.status_code == 400
    assert "already has a view" in r.content.decode() and 'value="contoso p1"' in r.content.decode()


def test_a_team_member_may_open_but_not_update_a_shared_view(client, org, desk2):
    view = saved_view_create(actor=org.desk, name="Desk", query={"status": "open"}, team=org.t1)
    client.force_login(desk2)
    r = client.get(reverse("incidents:queue") + f"?status=open&priority=P2&view={view.pk}")
    html = r.content.decode()
    assert "Showing <strong>Desk</strong>" in html and "Update “Desk”" not in html and "Save as new" in html
    assert (
        client.post(
            reverse("desk:view_update_query", kwargs={"pk": view.pk}), {"query": "priority=P2"}
        ).status_code
        == 403
    )
    assert client.post(reverse("desk:view_delete", kwargs={"pk": view.pk})).status_code == 403
    client.force_login(org.engineer)  # not in the team: the view is not there at all
    assert client.post(reverse("desk:view_edit", kwargs={"pk": view.pk}), {"name": "x"}).status_code == 404


def test_the_views_page_renames_shares_and_deletes(client, org):
    view = saved_view_create(actor=org.desk, name="Old name", query={"priority": "P1"})
    client.force_login(org.desk)
    page = reverse("desk:views")
    html = client.get(page).content.decode()
    assert "Old name" in html and "priority: P1" in html and f'<option value="{org.t1.pk}"' in html
    r = client.post(reverse("desk:view_edit", kwargs={"pk": view.pk}), {"name": "P1s", "team": org.t1.pk})
    assert r.status_code == 302
    view.refresh_from_db()
    assert (view.name, view.team) == ("P1s", org.t1)
    # second visit: the form shows the saved state; an empty name is refused in place
    html = client.get(page).content.decode()
    assert 'value="P1s"' in html and f'<option value="{org.t1.pk}" selected>' in html
    r = client.post(reverse("desk:view_edit", kwargs={"pk": view.pk}), {"name": "", "team": ""})
    assert r.status_code == 400 and "Give the view a name." in r.content.decode()
    view.refresh_from_db()
    assert view.team == org.t1  # nothing half-written
    r = client.post(reverse("desk:view_edit", kwargs={"pk": view.pk}), {"name": "P1s", "team": org.t2.pk})
    assert r.status_code == 400 and "Select a valid choice" in r.content.decode()
    assert client.post(reverse("desk:view_delete", kwargs={"pk": view.pk})).status_code == 302
    assert not SavedView.objects.exists()


# ------------------------------------------------------------------ query counts
def _count(call):
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries)


def _many_views(org, n, start=0):
    teams = [TeamFactory(name=f"Team {start + i}", members=[org.desk]) for i in range(3)]
    for i in range(start, start + n):
        saved_view_create(
            actor=org.desk, name=f"View {i}", query={"priority": "P1"}, team=teams[i % 3] if i % 2 else None
        )


def test_saved_view_lists_have_fixed_query_counts(api, client, org):
    api.as_user(org.desk)
    client.force_login(org.desk)
    _many_views(org, 2)
    small = [
        _count(lambda: api.get("/api/v1/saved-views/")),
        _count(lambda: client.get(reverse("desk:views"))),
    ]
    _many_views(org, 30, start=100)
    large = [
        _count(lambda: api.get("/api/v1/saved-views/")),
        _count(lambda: client.get(reverse("desk:views"))),
    ]
    assert large == small, (small, large)

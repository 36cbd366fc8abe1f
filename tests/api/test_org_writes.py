"""Teams, services and customers are written by org.services from every entry point: the
API (POST/PUT/PATCH), the admin and the team settings page share the rules, the row lock and
the audit row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from org.models import Customer, Team
from sprints.services import team_settings_update
from tests.factories import CustomerFactory, DevTeamFactory, ServiceFactory, TeamFactory, UserFactory
from tests.test_admin_writes import form_of, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_of(api, manager_user):
    return api.as_user(manager_user)


def _patch(client, url, body):
    with CaptureQueriesContext(connection) as queries:
        response = client.patch(url, body, format="json")
    return response, [q["sql"] for q in queries.captured_queries]


def test_team_patch_goes_through_the_team_service(client_of, manager_user):
    team = TeamFactory(name="Desk", tier=1)
    response, sql = _patch(client_of, f"/api/v1/teams/{team.pk}/", {"email": "Desk@Example.COM"})
    assert response.status_code == 200, response.content
    assert response.json()["email"] == "desk@example.com"
    assert any("FOR UPDATE" in q and '"org_team"' in q for q in sql)  # the service's lock
    entry = AuditEntry.objects.get(model="org.team", object_id=str(team.pk))
    assert entry.actor_id == manager_user.pk and entry.changes == {"email": ["", "desk@example.com"]}


def test_support_groups_have_no_delivery_settings_over_the_api(client_of):
    team = TeamFactory(name="Desk", tier=1)
    response = client_of.patch(f"/api/v1/teams/{team.pk}/", {"support_allocation_percent": 50}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "support_allocation_percent": ["Only development teams have delivery settings."]
    }
    team.refresh_from_db()
    assert team.support_allocation_percent == 20
    # a PUT that repeats the unchanged defaults is fine
    body = client_of.get(f"/api/v1/teams/{team.pk}/").json()
    body["name"] = "Service desk"
    assert client_of.put(f"/api/v1/teams/{team.pk}/", body, format="json").status_code == 200


def test_team_rules_are_the_settings_pages_rules(client_of, po_user):
    dev = DevTeamFactory(name="Dev")
    TeamFactory(name="Desk", tier=1)
    url = f"/api/v1/teams/{dev.pk}/"
    # the same normalisation as the team settings page: "8" is an estimate of 8
    ok = client_of.patch(url, {"default_estimates": {"P1": "8", "P2": 5}}, format="json")
    assert ok.status_code == 200 and ok.json()["default_estimates"] == {"P1": 8, "P2": 5}
    # the settings page's service is the team service: the same lock and the same audit row
    with CaptureQueriesContext(connection) as queries:
        team_settings_update(team=dev, actor=po_user, default_estimates={"P1": "3"})
    assert any("FOR UPDATE" in q["sql"] and '"org_team"' in q["sql"] for q in queries.captured_queries)
    dev.refresh_from_db()
    assert dev.default_estimates == {"P1": 3}
    assert AuditEntry.objects.filter(model="org.team", object_id=str(dev.pk), actor=po_user).count() == 1
    bad = client_of.patch(url, {"default_estimates": {"P1": -1}}, format="json")
    assert bad.status_code == 400 and "default_estimates" in bad.json()
    # names are unique whatever their case
    same = client_of.patch(url, {"name": "desk"}, format="json")
    assert same.status_code == 400 and same.json() == {"name": ["A team with this name already exists."]}
    # a development team that owns services stays one
    ServiceFactory(name="Payments", team=dev, support_team=Team.objects.get(name="Desk"))
    demote = client_of.patch(url, {"is_development": False, "tier": 2}, format="json")
    assert demote.status_code == 400 and "is_development" in demote.json()


def test_service_and_customer_writes_go_through_their_services(client_of, manager_user):
    desk = TeamFactory(name="Desk", tier=1)
    dev = DevTeamFactory(name="Dev")
    service = ServiceFactory(name="Payments", support_team=desk, team=dev)
    ServiceFactory(name="Reporting", support_team=desk, team=dev)
    response, sql = _patch(client_of, f"/api/v1/services/{service.pk}/", {"name": "reporting"})
    assert response.status_code == 400 and response.json() == {
        "name": ["A service with this name already exists."]
    }
    response, sql = _patch(client_of, f"/api/v1/services/{service.pk}/", {"description": "Card payments"})
    assert response.status_code == 200
    assert any("FOR UPDATE" in q and '"org_service"' in q for q in sql)
    assert AuditEntry.objects.filter(model="org.service", actor=manager_user).count() == 1

    customer = CustomerFactory(name="Acme")
    response, sql = _patch(client_of, f"/api/v1/customers/{customer.pk}/", {"country": "gb"})
    assert response.status_code == 200 and response.json()["country"] == "GB"
    assert any("FOR UPDATE" in q and '"org_customer"' in q for q in sql)
    created = client_of.post("/api/v1/customers/", {"name": "  Globex  "}, format="json")
    assert created.status_code == 201 and created.json()["name"] == "Globex"
    assert AuditEntry.objects.filter(model="org.customer", actor=manager_user).count() == 2


def test_team_admin_saves_through_the_service(client, admin_user):
    client.force_login(admin_user)
    member = UserFactory(username="ana")
    team = TeamFactory(name="Desk", tier=1)
    url = f"/admin/org/team/{team.pk}/change/"
    data = form_of(client, url)
    data["support_allocation_percent"] = ["50"]
    refused = submit(client, url, data)
    assert refused.status_code == 200
    assert "Only development teams have delivery settings." in refused.content.decode()

    data["support_allocation_percent"] = ["20"]
    data["members"] = [str(member.pk)]
    assert submit(client, url, data).status_code == 302
    team.refresh_from_db()
    assert list(team.members.all()) == [member]
    assert AuditEntry.objects.filter(model="org.team", object_id=str(team.pk), actor=admin_user).count() == 1
    # the second visit saves again without a change (and without a second audit row)
    assert submit(client, url, form_of(client, url)).status_code == 302
    assert AuditEntry.objects.filter(model="org.team", object_id=str(team.pk)).count() == 1

    add = "/admin/org/customer/add/"
    data = form_of(client, add)
    data.update(name=["Initech"], country=["de"], email_domains=['["Initech.Example"]'])
    assert submit(client, add, data).status_code == 302
    customer = Customer.objects.get(name="Initech")
    assert customer.country == "DE" and customer.email_domains == ["initech.example"]


def test_deletes_go_through_the_services(client_of, manager_user, client, admin_user):
    desk = TeamFactory(name="Desk", tier=1)
    spare = TeamFactory(name="Spare", tier=2)
    ServiceFactory(name="Payments", support_team=desk)
    in_use = client_of.delete(f"/api/v1/teams/{desk.pk}/")
    assert in_use.status_code == 400 and "still in use" in in_use.json()["detail"][0]
    assert client_of.delete(f"/api/v1/teams/{spare.pk}/").status_code == 204
    entry = AuditEntry.objects.get(model="org.team", object_id=str(spare.pk))
    assert (entry.action, entry.actor_id, entry.changes["name"]) == (
        "deleted",
        manager_user.pk,
        ["Spare", None],
    )

    customer = CustomerFactory(name="Gone Ltd")
    client.force_login(admin_user)
    page = client.post(f"/admin/org/customer/{customer.pk}/delete/", {"post": "yes"})
    assert page.status_code == 302 and not Customer.objects.filter(pk=customer.pk).exists()
    assert AuditEntry.objects.filter(model="org.customer", action="deleted", actor=admin_user).count() == 1

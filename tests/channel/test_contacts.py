"""Contacts (SPEC §13, Appendix B): API, the customers' mail domains, requester and copies on
incidents, the log form that finds or creates the contact, the customer page."""

import pytest
from django.urls import reverse

from incidents.models import Incident
from org.models import Contact, Customer
from org.selectors import customer_for_address
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------ API
def test_contacts_api_create_list_filter_search_patch(api, org):
    api.as_user(org.desk)
    other = CustomerFactory(name="Contoso")
    r = api.post(
        "/api/v1/contacts/",
        {
            "customer": org.customer.pk,
            "name": "Ana Lopez",
            "email": "Ana@Northwind.Example",
            "phone": "+44 1",
        },
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert {"id", "customer", "name", "email", "phone"} <= set(body)
    assert body["email"] == "ana@northwind.example"
    api.post("/api/v1/contacts/", {"customer": other.pk, "name": "Bo Chen", "email": "bo@contoso.example"})

    listed = api.get(f"/api/v1/contacts/?customer={org.customer.pk}").json()["results"]
    assert [c["name"] for c in listed] == ["Ana Lopez"]
    found = api.get("/api/v1/contacts/?search=contoso").json()["results"]
    assert [c["name"] for c in found] == ["Bo Chen"]

    r = api.patch(f"/api/v1/contacts/{body['id']}/", {"phone": "+44 2"})
    assert r.status_code == 200 and r.json()["phone"] == "+44 2"
    # The second save of the same record works too.
    r = api.patch(f"/api/v1/contacts/{body['id']}/", {"name": "Ana López"})
    assert r.status_code == 200 and r.json()["name"] == "Ana López" and r.json()["phone"] == "+44 2"
    assert api.get(f"/api/v1/contacts/{body['id']}/").json()["name"] == "Ana López"


def test_contact_email_is_unique_per_customer_not_globally(api, org):
    api.as_user(org.desk)
    other = CustomerFactory(name="Contoso")
    data = {"customer": org.customer.pk, "name": "Ana", "email": "ana@example.org"}
    assert api.post("/api/v1/contacts/", data).status_code == 201
    r = api.post("/api/v1/contacts/", {**data, "email": "ANA@example.org"})
    assert r.status_code == 400 and "email" in r.json()
    assert api.post("/api/v1/contacts/", {**data, "customer": other.pk}).status_code == 201
    bad = api.post("/api/v1/contacts/", {"customer": org.customer.pk, "name": "", "email": "nope"})
    assert bad.status_code == 400 and {"name", "email"} <= set(bad.json())


def test_patching_a_contact_onto_a_taken_address_is_a_400(api, org):
    api.as_user(org.desk)
    a = api.post("/api/v1/contacts/", {"customer": org.customer.pk, "name": "A", "email": "a@x.example"})
    b = api.post("/api/v1/contacts/", {"customer": org.customer.pk, "name": "B", "email": "b@x.example"})
    r = api.patch(f"/api/v1/contacts/{b.json()['id']}/", {"email": "a@x.example"})
    assert r.status_code == 400 and "email" in r.json()
    assert a.status_code == 201


def test_contact_roles(api, org):
    data = {"customer": org.customer.pk, "name": "Ana", "email": "ana@example.org"}
    assert api.as_user(org.po).post("/api/v1/contacts/", data).status_code == 403
    assert api.as_user(org.po).get("/api/v1/contacts/").status_code == 200
    assert api.as_user(org.norole).get("/api/v1/contacts/").status_code == 403
    assert api.as_user(org.engineer).post("/api/v1/contacts/", data).status_code == 201


def test_customer_email_domains(api, org):
    api.as_user(org.manager)
    r = api.patch(
        f"/api/v1/customers/{org.customer.pk}/", {"email_domains": ["@Northwind.Example", "nw.example"]}
    )
    assert r.status_code == 200 and r.json()["email_domains"] == ["northwind.example", "nw.example"]
    r = api.post("/api/v1/customers/", {"name": "Contoso", "email_domains": ["nw.example"]})
    assert r.status_code == 400 and "email_domains" in r.json()
    r = api.post("/api/v1/customers/", {"name": "Contoso", "email_domains": ["not a domain"]})
    assert r.status_code == 400 and "email_domains" in r.json()
    r = api.post("/api/v1/customers/", {"name": "Contoso", "email_domains": ["contoso.example"]})
    assert r.status_code == 201 and r.json()["email_domains"] == ["contoso.example"]
    assert "email_domains" in api.get("/api/v1/customers/").json()["results"][0]


def test_sender_belongs_to_contact_then_domain(org, contact):
    contoso = CustomerFactory(name="Contoso", email_domains=["contoso.example"])
    assert customer_for_address("ANA@northwind.example") == org.customer
    assert customer_for_address("someone@northwind.example") == org.customer
    assert customer_for_address("x@contoso.example") == contoso
    assert customer_for_address("x@elsewhere.example") is None


def test_incident_api_takes_requester_and_copies(api, org, contact):
    api.as_user(org.desk)
    copy = Contact.objects.create(customer=org.customer, name="Carl", email="carl@northwind.example")
    r = api.post(
        "/api/v1/incidents/",
        {"title": "Invoices missing", "service": org.service.pk, "impact": "low", "urgency": "low",
         "requester": contact.pk, "cc": [copy.pk]},
    )  # fmt: skip
    assert r.status_code == 201, r.json()
    body = r.json()
    # The customer follows from the requester when none is given.
    assert body["requester"] == contact.pk and body["cc"] == [copy.pk] and body["customer"] == org.customer.pk
    assert api.get(f"/api/v1/incidents/{body['id']}/").json()["cc"] == [copy.pk]


def test_incident_requester_must_work_for_the_customer(api, org, contact):
    api.as_user(org.desk)
    other = CustomerFactory(name="Contoso")
    stranger = Contact.objects.create(customer=other, name="Bo", email="bo@contoso.example")
    base = {"title": "x", "service": org.service.pk, "impact": "low", "urgency": "low"}
    r = api.post("/api/v1/incidents/", {**base, "customer": other.pk, "requester": contact.pk})
    assert r.status_code == 400 and "requester" in r.json()
    r = api.post("/api/v1/incidents/", {**base, "requester": contact.pk, "cc": [stranger.pk]})
    assert r.status_code == 400 and "cc" in r.json()
    assert not Incident.objects.exists()


# ------------------------------------------------------------------ browser (Django client)
def _form(org, **extra):
    data = {"title": "Portal slow", "service": org.service.pk, "type": "incident", "impact": "medium",
            "urgency": "medium", "customer": "", "description": ""}  # fmt: skip
    data.update(extra)
    return data


def test_log_form_with_a_found_contact(client, org, contact):
    client.force_login(org.desk)
    r = client.post(
        reverse("incidents:create"), _form(org, requester=contact.pk, cc="carl@northwind.example")
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    incident = Incident.objects.get()
    assert incident.requester == contact and incident.customer == org.customer
    assert [c.email for c in incident.cc.all()] == ["carl@northwind.example"]
    page = client.get(reverse("incidents:detail", kwargs={"key": incident.key})).content.decode()
    assert "Ana Lopez" in page and "carl@northwind.example" in page


def test_log_form_creates_a_new_contact_at_the_domains_customer(client, org, contact):
    client.force_login(org.desk)
    r = client.post(
        reverse("incidents:create"),
        _form(org, new_contact_name="Dee Diaz", new_contact_email="Dee@Northwind.example"),
    )
    assert r.status_code == 302
    incident = Incident.objects.get()
    assert incident.requester.email == "dee@northwind.example" and incident.customer == org.customer
    assert incident.requester.name == "Dee Diaz"


def test_log_form_new_contact_without_customer_keeps_the_input(client, org):
    client.force_login(org.desk)
    r = client.post(
        reverse("incidents:create"),
        _form(org, new_contact_name="Eve", new_contact_email="eve@unknown.example", cc="x@unknown.example"),
    )
    assert r.status_code == 400
    page = r.content.decode()
    assert "Choose the customer the new contact works for." in page
    assert 'value="eve@unknown.example"' in page and 'value="Portal slow"' in page
    assert not Incident.objects.exists() and not Contact.objects.exists()
    # Second try with the customer chosen: logged, contact and copy created.
    r = client.post(
        reverse("incidents:create"),
        _form(org, customer=org.customer.pk, new_contact_name="Eve", new_contact_email="eve@unknown.example",
              cc="x@unknown.example"),
    )  # fmt: skip
    assert r.status_code == 302
    assert Contact.objects.filter(customer=org.customer).count() == 2


def test_contact_search_fragment(client, org, contact):
    client.force_login(org.desk)
    other = CustomerFactory(name="Contoso")
    Contact.objects.create(customer=other, name="Ana Other", email="ana@contoso.example")
    url = reverse("customers:contact_search")
    page = client.get(url, {"requester_search": "ana"}).content.decode()
    assert "Ana Lopez" in page and "Ana Other" in page
    page = client.get(url, {"requester_search": "ana", "customer": org.customer.pk}).content.decode()
    assert "Ana Lopez" in page and "Ana Other" not in page
    assert f'data-id="{contact.pk}"' in page
    page = client.get(url, {"requester_search": "zzz"}).content.decode()
    assert "No contact matches" in page


def test_customer_page_lists_contacts_and_incidents_and_adds_a_contact(client, org, contact, log_incident):
    incident = log_incident(customer=org.customer, requester=contact)
    log_incident(title="Someone else's", customer=CustomerFactory(name="Contoso"))
    client.force_login(org.desk)
    url = reverse("customers:detail", kwargs={"pk": org.customer.pk})
    page = client.get(url).content.decode()
    assert "Ana Lopez" in page and incident.key in page and "Someone else" not in page
    r = client.post(url, {"contact-name": "Fay", "contact-email": "ana@northwind.example"})
    assert r.status_code == 400 and "already has a contact" in r.content.decode()
    r = client.post(url, {"contact-name": "Fay", "contact-email": "fay@northwind.example"})
    assert r.status_code == 302
    page = client.get(url).content.decode()
    assert "fay@northwind.example" in page
    assert "Northwind" in client.get(reverse("customers:list")).content.decode()


def test_customer_page_query_count_does_not_grow(client, org, log_incident, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(org.desk)
    url = reverse("customers:detail", kwargs={"pk": org.customer.pk})
    log_incident(customer=org.customer)
    # one contact already: the contacts' portal invitations are prefetched once there is one
    Contact.objects.create(customer=org.customer, name="First", email="first@x.example")
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for i in range(10):
        Contact.objects.create(customer=org.customer, name=f"C{i}", email=f"c{i}@x.example")
        log_incident(customer=org.customer)
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(large) == len(small)
    assert Customer.objects.count() == 1

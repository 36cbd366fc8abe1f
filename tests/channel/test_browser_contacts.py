"""The log form in a real Chromium: find the requester as you type, pick them, log."""

import pytest

from incidents.models import Incident
from org.models import Contact

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_desk_finds_the_requester_as_they_type_and_logs(page, live_server, login, screenshot, org, contact):
    Contact.objects.create(customer=org.customer, name="Anastasia Berg", email="anastasia@northwind.example")
    login(page, org.desk)
    page.goto(f"{live_server.url}/incidents/new/")
    page.get_by_label("Title").fill("Invoices page shows an error")
    page.get_by_label("Service").select_option(label="Payments API")
    page.get_by_label("Requester", exact=True).fill("ana")
    option = page.locator(".contact-option", has_text="Ana Lopez")
    option.wait_for()
    # "Anastasia Berg" matches by name too: both offered, with their customer.
    assert page.locator(".contact-option").count() == 2
    screenshot(page, "channel-log-form-search")
    page.get_by_label("Copies (e-mail addresses)").fill("carl@northwind.example")
    option.click()
    assert page.get_by_label("Customer").input_value() == str(org.customer.pk)
    assert page.locator("#requester-chosen").is_visible()
    screenshot(page, "channel-log-form-contact")
    page.get_by_role("button", name="Log incident").click()
    page.wait_for_url("**/incidents/INC-*/")
    incident = Incident.objects.get(title="Invoices page shows an error")
    assert incident.requester == contact and incident.customer == org.customer
    assert [c.email for c in incident.cc.all()] == ["carl@northwind.example"]
    assert page.get_by_text("ana@northwind.example").is_visible()
    screenshot(page, "channel-incident-requester")

"""The portal's tests: the small support organisation of the incident tests, two customers
and three portal accounts — a contact of A, a customer admin of A, a contact of B."""

from types import SimpleNamespace

import pytest

from org.models import Customer
from org.services import contact_activate, contact_create, contact_invite, invitation_token
from tests.channel.conftest import eager_tasks, smtp_sink  # noqa: F401
from tests.incidents.conftest import org, role_groups, sla_policies  # noqa: F401

PORTAL_PASSWORD = "Blue-harbour-42"  # noqa: S105


def portal_account(contact, *, actor=None):
    """Invite the contact and accept the invitation, as they would from the mail."""
    invitation = contact_invite(contact=contact, actor=actor)
    return contact_activate(token=invitation_token(invitation), password=PORTAL_PASSWORD)


@pytest.fixture
def people(org, django_capture_on_commit_callbacks):  # noqa: F811
    other = Customer.objects.create(name="Contoso")
    ana = contact_create(customer=org.customer, name="Ana Lopez", email="ana@northwind.example")
    carl = contact_create(
        customer=org.customer, name="Carl Admin", email="carl@northwind.example", is_customer_admin=True
    )
    bea = contact_create(customer=other, name="Bea Brown", email="bea@contoso.example")
    accounts = {c.pk: portal_account(c, actor=org.desk) for c in (ana, carl, bea)}
    for c in (ana, carl, bea):
        c.refresh_from_db()
    return SimpleNamespace(
        org=org,
        a=org.customer,
        b=other,
        ana=ana,
        carl=carl,
        bea=bea,
        ana_user=accounts[ana.pk],
        carl_user=accounts[carl.pk],
        bea_user=accounts[bea.pk],
    )


@pytest.fixture
def portal_incident(people):
    """An incident of customer A that Ana logged in the portal."""
    from portal.services import portal_incident_create

    def make(user=None, **kwargs):
        data = {
            "title": "Invoices page is blank",
            "description": "Since this morning the invoices page shows nothing.",
            "service": people.org.service,
        }
        data.update(kwargs)
        return portal_incident_create(user=user or people.ana_user, **data)

    return make

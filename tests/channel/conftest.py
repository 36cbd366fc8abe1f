"""The customer channel's tests reuse the small support organisation of the incident tests."""

import pytest

from tests.incidents.conftest import log_incident, org, role_groups, sla_policies  # noqa: F401


@pytest.fixture
def contact(org):  # noqa: F811 - the imported fixture
    from org.services import contact_create, customer_set_email_domains

    customer_set_email_domains(customer=org.customer, domains=["northwind.example"])
    return contact_create(customer=org.customer, name="Ana Lopez", email="Ana@Northwind.example")

"""Hand-written data for search: a payments desk with Contoso and Northwind as customers,
Tariq and Sam in support, and incidents logged through the services (so their search
vectors are kept as in production)."""

from types import SimpleNamespace

import pytest

from accounts.roles import Role
from incidents import services
from org.models import Contact
from tests.factories import CustomerFactory, ServiceFactory, TeamFactory, UserFactory


@pytest.fixture(autouse=True)
def role_groups(db):
    from django.contrib.auth.models import Group

    for role in Role.values:
        Group.objects.get_or_create(name=role)


@pytest.fixture
def desk(role_groups):
    tariq = UserFactory(
        username="tariq", first_name="Tariq", last_name="Haddad", roles=[Role.SUPPORT_ENGINEER]
    )
    sam = UserFactory(username="sam", first_name="Sam", last_name="Okafor", roles=[Role.SERVICE_DESK])
    team = TeamFactory(name="Service Desk", tier=1, members=[tariq, sam])
    service = ServiceFactory(name="Payments API", support_team=team)
    contoso = CustomerFactory(name="Contoso Retail", email_domains=["contoso.example"])
    northwind = CustomerFactory(name="Northwind Traders")
    priya = Contact.objects.create(customer=contoso, name="Priya Raman", email="priya@contoso.example")

    def log(title, *, customer=None, description="", assignee=None, requester=None, **kwargs):
        incident = services.incident_create(
            actor=sam,
            title=title,
            service=service,
            description=description,
            customer=customer,
            requester=requester,
            **kwargs,
        )
        if assignee is not None:
            incident = services.incident_assign(incident=incident, actor=sam, assignee=assignee)
        return incident

    safari = log(
        "3-D Secure challenge loops on Safari",
        customer=contoso,
        description="Shoppers on iOS are sent back to the bank page again and again.",
        requester=priya,
    )
    refunds = log(
        "Refund export times out",
        customer=northwind,
        description="The CSV of last month's refunds never finishes.",
        assignee=tariq,
    )
    payouts = log(
        "Payout file missing for three merchants",
        customer=northwind,
        description="Settlement job log shows a timeout at 02:10.",
    )
    return SimpleNamespace(
        tariq=tariq,
        sam=sam,
        team=team,
        service=service,
        contoso=contoso,
        northwind=northwind,
        priya=priya,
        safari=safari,
        refunds=refunds,
        payouts=payouts,
        log=log,
    )

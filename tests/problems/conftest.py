"""Problems build on escalation: its world (desk, tier 2, a development team with a board and
an active sprint) is reused as is."""

import pytest

from incidents.services import incident_assign, incident_escalate
from org.models import Contact, Customer
from tests.escalation.conftest import (  # noqa: F401 - fixtures
    active_sprint,
    board,
    desk_team,
    dev_team,
    log_incident,
    service,
    support_team,
    tier2_incident,
)


@pytest.fixture
def sla_policies(db):
    """Resolution clocks for every priority (24x7): P2 due in 8 h, P3 in 24 h."""
    from sla.models import BusinessCalendar, SLAPolicy

    calendar = BusinessCalendar.objects.create(name="24x7", timezone="UTC", always_open=True)
    minutes = {"P1": 240, "P2": 480, "P3": 1440, "P4": 2880, "P5": 5760}
    for priority, resolution in minutes.items():
        SLAPolicy.objects.create(
            name=priority,
            priority=priority,
            response_minutes=60,
            resolution_minutes=resolution,
            calendar=calendar,
        )


@pytest.fixture
def customers(db):
    return [Customer.objects.create(name=f"Customer {n}") for n in range(3)]


@pytest.fixture
def customer_incident(log_incident, customers, support_team, desk_user, engineer_user):  # noqa: F811
    """An incident of a customer's contact (so the customer channel mails its resolution),
    handed to tier 2 and taken by the engineer."""
    n = iter(range(1, 1000))

    def make(customer=None, **kwargs):
        customer = customer or customers[0]
        i = next(n)
        contact = Contact.objects.create(
            customer=customer, name=f"Requester {i}", email=f"req{i}@example.org"
        )
        incident = log_incident(customer=customer, requester=contact, **kwargs)
        incident = incident_escalate(incident=incident, actor=desk_user, team=support_team, note="Tier 2")
        return incident_assign(incident=incident, actor=engineer_user, assignee=engineer_user)

    return make

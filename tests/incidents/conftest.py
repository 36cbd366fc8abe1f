"""A small support organisation: a service desk (tier 1), application support (tier 2), a
development team (tier 3), a tiered and a swarm service, and one user per role, each a
member of the teams a person in that role would be in."""

from types import SimpleNamespace

import pytest

from accounts.roles import Role
from incidents import services
from tests.factories import CustomerFactory, DevTeamFactory, ServiceFactory, TeamFactory, UserFactory


@pytest.fixture(autouse=True)
def role_groups(db):
    """Role groups come from a data migration; a transactional test before us flushes them."""
    from django.contrib.auth.models import Group

    for role in Role.values:
        Group.objects.get_or_create(name=role)


@pytest.fixture
def org(role_groups):
    desk = UserFactory(username="desk", roles=[Role.SERVICE_DESK])
    engineer = UserFactory(username="engineer", roles=[Role.SUPPORT_ENGINEER])
    developer = UserFactory(username="developer", roles=[Role.DEVELOPER])
    po = UserFactory(username="po", roles=[Role.PRODUCT_OWNER])
    manager = UserFactory(username="manager", roles=[Role.MANAGER])
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    norole = UserFactory(username="norole")
    t1 = TeamFactory(name="Service Desk", tier=1, members=[desk])
    t2 = TeamFactory(name="Application Support", tier=2, members=[engineer])
    dev = DevTeamFactory(name="Payments Dev", members=[developer])
    swarm_team = TeamFactory(name="Reporting Swarm", tier=2, members=[engineer])
    service = ServiceFactory(name="Payments API", support_team=t1, team=dev)
    swarm = ServiceFactory(name="Reporting", support_team=swarm_team, team=dev, support_model="swarm")
    customer = CustomerFactory(name="Northwind")
    return SimpleNamespace(
        desk=desk,
        engineer=engineer,
        developer=developer,
        po=po,
        manager=manager,
        admin=admin,
        norole=norole,
        t1=t1,
        t2=t2,
        dev=dev,
        swarm_team=swarm_team,
        service=service,
        swarm=swarm,
        customer=customer,
    )


@pytest.fixture
def log_incident(org):
    def make(actor=None, **kwargs):
        data = {
            "title": "Checkout returns 502",
            "service": org.service,
            "impact": "high",
            "urgency": "medium",
            "description": "Since 09:12 every card payment fails.",
        }
        data.update(kwargs)
        return services.incident_create(actor=actor or org.desk, **data)

    return make


@pytest.fixture(autouse=True)
def sla_policies(db):
    """24×7 policies for every priority, so incidents get real timers through the SLA hooks."""
    from tests.sla.factories import CalendarFactory, PolicyFactory

    calendar = CalendarFactory(name="24x7", always_open=True, timezone="UTC")
    targets = {"P1": (15, 240), "P2": (30, 480), "P3": (60, 1440), "P4": (240, 2880), "P5": (480, 5760)}
    return [
        PolicyFactory(
            name=f"{p} default", priority=p, calendar=calendar, response_minutes=r, resolution_minutes=res
        )
        for p, (r, res) in targets.items()
    ]

"""A small support organisation for the knowledge base: writers of each role, a reader
(product owner), services, and a helper that writes articles through the service."""

from types import SimpleNamespace

import pytest

from accounts.roles import Role
from knowledge.services import article_create
from tests.factories import DevTeamFactory, ServiceFactory, TeamFactory, UserFactory


@pytest.fixture(autouse=True)
def role_groups(db):
    from django.contrib.auth.models import Group

    for role in Role.values:
        Group.objects.get_or_create(name=role)


@pytest.fixture
def kb(role_groups):
    desk = UserFactory(username="desk", roles=[Role.SERVICE_DESK])
    engineer = UserFactory(username="engineer", roles=[Role.SUPPORT_ENGINEER])
    developer = UserFactory(username="developer", roles=[Role.DEVELOPER])
    po = UserFactory(username="po", roles=[Role.PRODUCT_OWNER])
    manager = UserFactory(username="manager", roles=[Role.MANAGER])
    norole = UserFactory(username="norole")
    t1 = TeamFactory(name="Service Desk", tier=1, members=[desk])
    dev = DevTeamFactory(name="Portal Dev", members=[developer])
    portal = ServiceFactory(name="Merchant Portal", support_team=t1, team=dev)
    payments = ServiceFactory(name="Payments API", support_team=t1, team=dev)
    return SimpleNamespace(
        desk=desk,
        engineer=engineer,
        developer=developer,
        po=po,
        manager=manager,
        norole=norole,
        t1=t1,
        dev=dev,
        portal=portal,
        payments=payments,
    )


@pytest.fixture
def write(kb):
    def make(title="Safari login loops", body="Clear the site's cookies.", **kwargs):
        kwargs.setdefault("actor", kb.desk)
        return article_create(title=title, body=body, **kwargs)

    return make

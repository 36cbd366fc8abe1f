"""The incidents tests' small support organisation (tests/incidents/conftest.py), plus a
second desk agent in the service desk team, and a second customer."""

import pytest

from accounts.roles import Role
from tests.factories import CustomerFactory, UserFactory
from tests.incidents.conftest import log_incident, org, role_groups, sla_policies  # noqa: F401


@pytest.fixture
def desk2(org):  # noqa: F811
    """Another member of the service desk team (tier 1), like `org.desk`."""
    user = UserFactory(username="desk2", first_name="Dana", roles=[Role.SERVICE_DESK])
    org.t1.members.add(user)
    return user


@pytest.fixture
def contoso(org):  # noqa: F811
    return CustomerFactory(name="Contoso")

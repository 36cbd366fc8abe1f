"""The request's user comes with its role names in the same query (accounts.roles
.with_role_names), for a token and for a session alike; a role taken away or given is
seen by the very next request."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _statements(call):
    with CaptureQueriesContext(connection) as queries:
        response = call()
    return response, [q["sql"] for q in queries.captured_queries]


def test_a_token_request_reads_its_roles_with_its_user_and_sees_changes_next_time(api):
    user = UserFactory(roles=[Role.SERVICE_DESK])
    api.as_user(user)
    response, statements = _statements(lambda: api.get("/api/v1/teams/"))
    assert response.status_code == 200
    assert not [s for s in statements if s.startswith('SELECT "auth_group"."name"')], statements
    user.groups.clear()
    assert api.get("/api/v1/teams/").status_code == 403  # no role any more
    user.groups.add(Group.objects.get(name=Role.DEVELOPER))
    assert api.get("/api/v1/teams/").status_code == 200


def test_a_browser_request_reads_its_roles_with_its_user_and_sees_changes_next_time(client):
    user = UserFactory(roles=[Role.SERVICE_DESK])
    client.force_login(user)
    response, statements = _statements(lambda: client.get(reverse("incidents:queue")))
    assert response.status_code == 200
    assert not [s for s in statements if s.startswith('SELECT "auth_group"."name"')], statements
    user.groups.clear()
    assert client.get(reverse("incidents:queue")).status_code == 403
    user.groups.add(Group.objects.get(name=Role.SUPPORT_ENGINEER))
    assert client.get(reverse("incidents:queue")).status_code == 200


def test_a_user_without_groups_has_no_roles_and_a_superuser_all(api):
    nobody = UserFactory(roles=[])
    assert api.as_user(nobody).get("/api/v1/teams/").status_code == 403
    admin = UserFactory(roles=[], is_superuser=True)
    assert api.as_user(admin).get("/api/v1/teams/").status_code == 200

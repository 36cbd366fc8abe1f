"""A role taken away or given is seen by the very next request, for a token and for a
session alike (roles are read once per request, never kept across requests)."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_token_request_sees_a_role_change_at_once(api):
    user = UserFactory(roles=[Role.SERVICE_DESK])
    api.as_user(user)
    assert api.get("/api/v1/teams/").status_code == 200
    user.groups.clear()
    assert api.get("/api/v1/teams/").status_code == 403  # no role any more
    user.groups.add(Group.objects.get(name=Role.DEVELOPER))
    assert api.get("/api/v1/teams/").status_code == 200


def test_a_browser_request_sees_a_role_change_at_once(client):
    user = UserFactory(roles=[Role.SERVICE_DESK])
    client.force_login(user)
    assert client.get(reverse("incidents:queue")).status_code == 200
    user.groups.clear()
    assert client.get(reverse("incidents:queue")).status_code == 403
    user.groups.add(Group.objects.get(name=Role.SUPPORT_ENGINEER))
    assert client.get(reverse("incidents:queue")).status_code == 200


def test_a_user_without_groups_has_no_roles_and_a_superuser_all(api):
    nobody = UserFactory(roles=[])
    assert api.as_user(nobody).get("/api/v1/teams/").status_code == 403
    admin = UserFactory(roles=[], is_superuser=True)
    assert api.as_user(admin).get("/api/v1/teams/").status_code == 200

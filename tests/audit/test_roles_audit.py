"""Roles are configuration: changing who holds which role leaves one audit row."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.roles import Role
from accounts.services import user_roles_set
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_user_roles_set_records_old_and_new(make_user, admin_user):
    user = make_user(Role.SERVICE_DESK, username="sam")
    user_roles_set(user=user, roles=[Role.SUPPORT_ENGINEER, Role.SERVICE_DESK], actor=admin_user)
    row = AuditEntry.objects.get()
    assert (row.model, row.action, row.actor) == ("accounts.user", "updated", admin_user)
    assert row.changes == {"roles": [["service_desk"], ["service_desk", "support_engineer"]]}
    user_roles_set(user=user, roles=[Role.SUPPORT_ENGINEER, Role.SERVICE_DESK], actor=admin_user)
    assert AuditEntry.objects.count() == 1  # nothing changed, nothing recorded


def test_unknown_role_is_refused(make_user, admin_user):
    from django.core.exceptions import ValidationError

    user = make_user()
    with pytest.raises(ValidationError):
        user_roles_set(user=user, roles=["wizard"], actor=admin_user)
    assert not AuditEntry.objects.exists()


def test_admin_role_change_leaves_one_row_naming_the_admin(client, make_user, admin_user):
    user = make_user(Role.DEVELOPER, username="dana")
    manager = Group.objects.get_or_create(name=Role.MANAGER)[0]
    developer = Group.objects.get(name=Role.DEVELOPER)
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[user.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)}
    data.update(
        {
            "username": "dana",
            "password": form.initial["password"],
            "groups": [developer.pk, manager.pk],
            "is_active": "on",
            "is_staff": "on",
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
            "time_zone": "",
        }
    )
    data.pop("last_login", None)
    data.pop("user_permissions", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.content[:500]
    row = AuditEntry.objects.get()
    assert row.actor == admin_user
    assert row.object_id == str(user.pk)
    assert row.changes["roles"] == [["developer"], ["developer", "manager"]]
    assert row.changes["is_staff"] == [False, True]

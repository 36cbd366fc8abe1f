"""Webhook subscription changes leave one audit row naming their caller, from every entry
point; the signing secret is never written to the log."""

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from audit.services import REDACTED
from webhooks.models import Subscription
from webhooks.services import subscription_create, subscription_delete, subscription_update

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_ok(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True


def test_create_update_delete_each_leave_one_row_with_the_secret_redacted(manager_user):
    sub = subscription_create(url="http://127.0.0.1:9/hook", actor=manager_user, secret="s" * 20)
    created = AuditEntry.objects.get()
    assert (created.model, created.action, created.actor_id) == (
        "webhooks.subscription",
        "created",
        manager_user.pk,
    )
    assert created.changes["secret"] == [REDACTED, REDACTED]
    assert "s" * 20 not in str(created.changes)

    subscription_update(subscription=sub, actor=manager_user, secret="t" * 20, description="Ops")
    updated = AuditEntry.objects.exclude(pk=created.pk).get()
    assert updated.action == "updated" and updated.actor_id == manager_user.pk
    assert updated.changes == {"description": ["", "Ops"], "secret": [REDACTED, REDACTED]}

    subscription_delete(subscription=sub, actor=manager_user)
    deleted = AuditEntry.objects.order_by("-pk").first()
    assert (deleted.action, deleted.object_id, deleted.actor_id) == ("deleted", str(sub.pk), manager_user.pk)
    assert not Subscription.objects.filter(pk=sub.pk).exists()


def test_the_browser_toggle_records_who_switched_it_off_and_on(client, manager_user):
    sub = subscription_create(url="http://127.0.0.1:9/hook", actor=manager_user)
    client.force_login(manager_user)
    for expected in (False, True):
        assert client.post(reverse("webhooks:toggle", args=[sub.pk])).status_code == 302
        row = AuditEntry.objects.order_by("-pk").first()
        assert (row.action, row.actor_id) == ("updated", manager_user.pk)
        assert row.changes["active"] == [not expected, expected]
    assert AuditEntry.objects.count() == 3


def test_admin_delete_goes_through_the_service(admin_client, admin_user):
    sub = Subscription.objects.create(url="http://127.0.0.1:9/hook")
    resp = admin_client.post(f"/admin/webhooks/subscription/{sub.pk}/delete/", {"post": "yes"})
    assert resp.status_code == 302
    row = AuditEntry.objects.get()
    assert (row.model, row.action, row.actor_id, row.object_id) == (
        "webhooks.subscription",
        "deleted",
        admin_user.pk,
        str(sub.pk),
    )

"""SLA settings changes leave one audit row naming who made them, whatever the entry point
(browser, admin, service); holidays and hours are recorded in the calendar's row."""

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from sla.models import BusinessCalendar, SLAPolicy
from sla.services import calendar_delete, policy_delete, policy_update
from tracker.exceptions import DomainError

from .factories import CalendarFactory, PolicyFactory
from .test_views import CAL_POST

pytestmark = pytest.mark.django_db


def test_browser_calendar_create_and_edit_record_hours_and_holidays(client, manager_user):
    client.force_login(manager_user)
    assert client.post(reverse("sla:calendar_create"), CAL_POST).status_code == 302
    cal = BusinessCalendar.objects.get()
    created = AuditEntry.objects.get()
    assert (created.model, created.action, created.actor_id) == ("sla.calendar", "created", manager_user.pk)
    assert created.object_id == str(cal.pk)
    assert created.changes["holidays"] == [None, ["2025-12-25", "2025-12-26"]]
    assert created.changes["hours"][1]["mon"] == [["22:00", "06:00"]]

    edit = {**CAL_POST, "holidays": "2025-12-25", "hours_mon": "08:00-16:00"}
    assert client.post(reverse("sla:calendar_edit", args=[cal.pk]), edit).status_code == 302
    updated = AuditEntry.objects.exclude(pk=created.pk).get()
    assert updated.action == "updated" and updated.actor_id == manager_user.pk
    assert updated.changes["holidays"] == [["2025-12-25", "2025-12-26"], ["2025-12-25"]]
    assert updated.changes["hours"][1]["mon"] == [["08:00", "16:00"]]
    assert set(updated.changes) == {"holidays", "hours"}

    # The second save of the same form changes nothing: no row.
    assert client.post(reverse("sla:calendar_edit", args=[cal.pk]), edit).status_code == 302
    assert AuditEntry.objects.count() == 2


def test_policy_update_records_old_and_new_and_nothing_for_no_change(manager_user):
    policy = PolicyFactory(resolution_minutes=240)
    policy_update(policy=policy, actor=manager_user, resolution_minutes=480)
    row = AuditEntry.objects.get()
    assert (row.model, row.action, row.actor_id) == ("sla.policy", "updated", manager_user.pk)
    assert row.changes == {"resolution_minutes": [240, 480]}
    policy_update(policy=policy, actor=manager_user, resolution_minutes=480)
    assert AuditEntry.objects.count() == 1


def test_admin_deletes_a_policy_through_the_service(admin_client, admin_user):
    policy = PolicyFactory(name="Old P2")
    resp = admin_client.post(f"/admin/sla/slapolicy/{policy.pk}/delete/", {"post": "yes"})
    assert resp.status_code == 302
    assert not SLAPolicy.objects.filter(pk=policy.pk).exists()
    row = AuditEntry.objects.get()
    assert (row.model, row.action, row.actor_id) == ("sla.policy", "deleted", admin_user.pk)
    assert row.object_id == str(policy.pk) and row.changes["name"] == ["Old P2", None]


def test_admin_bulk_delete_of_calendars_leaves_one_row_each(admin_client, admin_user):
    calendars = [CalendarFactory(), CalendarFactory()]
    resp = admin_client.post(
        "/admin/sla/businesscalendar/",
        {"action": "delete_selected", "_selected_action": [c.pk for c in calendars], "post": "yes"},
    )
    assert resp.status_code == 302
    assert not BusinessCalendar.objects.exists()
    rows = AuditEntry.objects.order_by("object_id")
    assert [(r.model, r.action, r.actor_id) for r in rows] == [("sla.calendar", "deleted", admin_user.pk)] * 2
    assert sorted(r.object_id for r in rows) == sorted(str(c.pk) for c in calendars)


def test_a_calendar_in_use_is_not_deleted(manager_user):
    policy = PolicyFactory()
    with pytest.raises(DomainError, match="used by SLA policies"):
        calendar_delete(calendar=policy.calendar, actor=manager_user)
    assert BusinessCalendar.objects.filter(pk=policy.calendar_id).exists()
    assert not AuditEntry.objects.exists()
    policy_delete(policy=policy, actor=manager_user)
    calendar_delete(calendar=policy.calendar, actor=manager_user)
    assert [r.action for r in AuditEntry.objects.order_by("pk")] == ["deleted", "deleted"]

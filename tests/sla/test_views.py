"""SLA settings pages: managers edit, others read, errors next to fields, fixed queries."""

import pytest
from django.urls import reverse

from sla import demo
from sla.models import BusinessCalendar, SLAPolicy
from tracker.demo import DemoContext

from .factories import CalendarFactory, PolicyFactory

pytestmark = pytest.mark.django_db

CAL_POST = {
    "name": "Night desk",
    "timezone": "America/New_York",
    "hours_mon": "22:00-06:00",
    "hours_tue": "09:00-12:00, 13:00-17:00",
    "holidays": "2025-12-25\n2025-12-26",
    "country": "us",
}


def test_settings_page_lists_and_links_for_managers(client, manager_user):
    PolicyFactory(name="Gold P2")
    client.force_login(manager_user)
    resp = client.get(reverse("sla:settings"))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "Gold P2" in html and reverse("sla:policy_create") in html
    # The nav shows the entry to managers.
    assert 'href="/sla/"' in html


def test_settings_page_read_only_for_desk(client, desk_user):
    PolicyFactory(name="Gold P2")
    client.force_login(desk_user)
    html = client.get(reverse("sla:settings")).content.decode()
    assert "Gold P2" in html and reverse("sla:policy_create") not in html
    assert client.get(reverse("sla:calendar_create")).status_code == 403
    assert client.post(reverse("sla:calendar_create"), CAL_POST).status_code == 403
    assert not BusinessCalendar.objects.filter(name="Night desk").exists()


def test_manager_creates_a_night_calendar(client, manager_user):
    client.force_login(manager_user)
    resp = client.post(reverse("sla:calendar_create"), CAL_POST)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    cal = BusinessCalendar.objects.get()
    assert cal.hours["mon"] == [["22:00", "06:00"]]
    assert cal.hours["tue"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert cal.holidays == ["2025-12-25", "2025-12-26"]
    assert cal.country == "US"
    edit = client.get(reverse("sla:calendar_edit", args=[cal.pk])).content.decode()
    assert 'value="09:00-12:00, 13:00-17:00"' in edit


def test_calendar_errors_show_next_to_fields_and_keep_input(client, manager_user):
    client.force_login(manager_user)
    resp = client.post(
        reverse("sla:calendar_create"),
        {**CAL_POST, "timezone": "Moon/Base", "hours_wed": "9-5", "holidays": "someday"},
    )
    assert resp.status_code == 400
    form = resp.context["form"]
    assert "timezone" in form.errors and "holidays" in form.errors
    assert 'value="Moon/Base"' in resp.content.decode()
    assert not BusinessCalendar.objects.exists()
    resp = client.post(reverse("sla:calendar_create"), {**CAL_POST, "hours_wed": "09:00-25:00"})
    assert "hours_wed" in resp.context["form"].errors


def test_manager_creates_and_edits_a_policy(client, manager_user):
    cal = CalendarFactory()
    client.force_login(manager_user)
    data = {
        "name": "P3 standard",
        "priority": "P3",
        "calendar": cal.pk,
        "response_minutes": 120,
        "resolution_minutes": 960,
        "warn_percent": 80,
        "pause_on": ["awaiting_customer"],
        "notify_on_breach": "on",
        "active": "on",
    }
    assert client.post(reverse("sla:policy_create"), data).status_code == 302
    policy = SLAPolicy.objects.get()
    assert policy.pause_on == ["awaiting_customer"] and policy.warn_percent == 80
    resp = client.post(reverse("sla:policy_edit", args=[policy.pk]), {**data, "resolution_minutes": 30})
    assert resp.status_code == 400
    assert "resolution_minutes" in resp.context["form"].errors
    policy.refresh_from_db()
    assert policy.resolution_minutes == 960
    resp = client.post(reverse("sla:policy_edit", args=[policy.pk]), {**data, "escalate_on_breach": "on"})
    assert resp.status_code == 302
    policy.refresh_from_db()
    assert policy.escalate_on_breach


def test_settings_page_query_count_does_not_grow(client, manager_user, django_assert_max_num_queries):
    client.force_login(manager_user)
    PolicyFactory()
    client.get(reverse("sla:settings"))
    with django_assert_max_num_queries(8):
        client.get(reverse("sla:settings"))
    for _ in range(25):
        PolicyFactory()
    with django_assert_max_num_queries(8):
        resp = client.get(reverse("sla:settings"))
    assert resp.content.decode().count("badge-P2") == 26


def test_admin_uses_the_service_validation(client, admin_user):
    client.force_login(admin_user)
    resp = client.post(
        "/admin/sla/businesscalendar/add/",
        {
            "name": "Bad",
            "timezone": "Nowhere/Land",
            "hours": '{"mon": [["09:00", "17:00"]]}',
            "holidays": "[]",
        },
    )
    assert resp.status_code == 200
    assert not BusinessCalendar.objects.exists()
    resp = client.post(
        "/admin/sla/businesscalendar/add/",
        {
            "name": "Good",
            "timezone": "Europe/Paris",
            "hours": '{"mon": [["09:00", "17:00"]]}',
            "holidays": "[]",
        },
    )
    assert resp.status_code == 302
    assert BusinessCalendar.objects.get().hours["sun"] == []


def test_demo_seed_is_idempotent():
    logged = []
    demo.seed(DemoContext(), logged.append)
    demo.seed(DemoContext(), logged.append)
    assert BusinessCalendar.objects.count() == 2
    assert sorted(SLAPolicy.objects.values_list("priority", flat=True)) == ["P1", "P2", "P3", "P4", "P5"]
    assert SLAPolicy.objects.get(priority="P1").calendar.always_open
    office = SLAPolicy.objects.get(priority="P2").calendar
    assert (office.timezone, office.country, office.hours["mon"]) == (
        "Europe/London",
        "GB",
        [["09:00", "17:30"]],
    )


def test_editing_a_policys_target_in_the_browser_asks_for_its_clocks_to_be_recomputed(client, manager_user):
    cal = CalendarFactory()
    client.force_login(manager_user)
    data = {
        "name": "P3 standard",
        "priority": "P3",
        "calendar": cal.pk,
        "response_minutes": 120,
        "resolution_minutes": 960,
        "warn_percent": 80,
        "pause_on": ["awaiting_customer"],
        "active": "on",
    }
    client.post(reverse("sla:policy_create"), data)
    policy = SLAPolicy.objects.get()
    resp = client.post(
        reverse("sla:policy_edit", args=[policy.pk]), {**data, "resolution_minutes": 480}, follow=True
    )
    assert "being recomputed from their start" in resp.content.decode()
    policy.refresh_from_db()
    assert policy.resolution_minutes == 480 and policy.retarget_requested_at is not None

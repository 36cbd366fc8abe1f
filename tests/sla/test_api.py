"""/api/v1/sla/calendars/ and /api/v1/sla/policies/: staff read, managers write, 400s."""

import pytest

from accounts.roles import Role
from sla.models import BusinessCalendar, SLAPolicy

from .factories import CalendarFactory, PolicyFactory

pytestmark = pytest.mark.django_db

CAL = {
    "name": "London office",
    "timezone": "Europe/London",
    "always_open": False,
    "hours": {"mon": [["09:00", "17:30"]], "tue": [["09:00", "17:30"]], "sat": []},
    "holidays": ["2025-12-24"],
    "country": "gb",
}


def test_manager_creates_and_reads_a_calendar(api, manager_user):
    resp = api.as_user(manager_user).post("/api/v1/sla/calendars/", CAL, format="json")
    assert resp.status_code == 201, resp.json()
    body = resp.json()
    assert body["country"] == "GB"
    assert body["hours"]["mon"] == [["09:00", "17:30"]]
    assert body["hours"]["sun"] == []
    assert body["holidays"] == ["2025-12-24"]
    got = api.get(f"/api/v1/sla/calendars/{body['id']}/").json()
    assert got["timezone"] == "Europe/London"
    listing = api.get("/api/v1/sla/calendars/").json()
    assert [c["name"] for c in listing["results"]] == ["London office"]
    assert "next" in listing


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"timezone": "Europe/Londn"}, "timezone"),
        ({"hours": {"mon": [["9", "17:00"]]}}, "hours"),
        ({"hours": {"mon": [["09:00", "25:00"]]}}, "hours"),
        ({"hours": {"mon": "all day"}}, "hours"),
        ({"hours": {"someday": [["09:00", "17:00"]]}}, "hours"),
        ({"holidays": ["2025-13-01"]}, "holidays"),
        ({"holidays": "2025-12-25"}, "holidays"),
        ({"country": "ZZ"}, "country"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_calendar_input_is_400_with_field_messages(api, manager_user, patch, field):
    resp = api.as_user(manager_user).post("/api/v1/sla/calendars/", {**CAL, **patch}, format="json")
    assert resp.status_code == 400
    assert field in resp.json()
    assert not BusinessCalendar.objects.exists()


def test_24x7_calendar_needs_no_hours(api, manager_user):
    resp = api.as_user(manager_user).post(
        "/api/v1/sla/calendars/", {"name": "Always", "timezone": "UTC", "always_open": True}, format="json"
    )
    assert resp.status_code == 201, resp.json()


def test_patch_calendar_and_policy(api, manager_user):
    cal = CalendarFactory()
    resp = api.as_user(manager_user).patch(
        f"/api/v1/sla/calendars/{cal.pk}/", {"hours": {"mon": [["22:00", "06:00"]]}}, format="json"
    )
    assert resp.status_code == 200, resp.json()
    assert resp.json()["hours"]["mon"] == [["22:00", "06:00"]]
    policy = PolicyFactory(calendar=cal)
    resp = api.patch(f"/api/v1/sla/policies/{policy.pk}/", {"warn_percent": 80}, format="json")
    assert resp.status_code == 200
    policy.refresh_from_db()
    assert policy.warn_percent == 80


def test_manager_creates_a_policy(api, manager_user):
    cal = CalendarFactory()
    body = {
        "name": "P2 standard",
        "priority": "P2",
        "response_minutes": 60,
        "resolution_minutes": 480,
        "calendar": cal.pk,
        "warn_percent": 75,
    }
    resp = api.as_user(manager_user).post("/api/v1/sla/policies/", body, format="json")
    assert resp.status_code == 201, resp.json()
    data = resp.json()
    assert data["service"] is None and data["customer"] is None
    assert data["pause_on"] == ["awaiting_customer", "awaiting_vendor"]
    assert SLAPolicy.objects.get().calendar == cal


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"priority": "P9"}, "priority"),
        ({"calendar": 999999}, "calendar"),
        ({"response_minutes": -5}, "response_minutes"),
        ({"response_minutes": 0}, "response_minutes"),
        ({"warn_percent": 150}, "warn_percent"),
        ({"resolution_minutes": 30}, "resolution_minutes"),
        ({"pause_on": ["awaiting_godot"]}, "pause_on"),
        ({"incident_type": "outage"}, "incident_type"),
        ({"service": 424242}, "service"),
    ],
)
def test_bad_policy_input_is_400(api, manager_user, patch, field):
    cal = CalendarFactory()
    body = {
        "name": "x",
        "priority": "P2",
        "response_minutes": 60,
        "resolution_minutes": 480,
        "calendar": cal.pk,
    }
    resp = api.as_user(manager_user).post("/api/v1/sla/policies/", {**body, **patch}, format="json")
    assert resp.status_code == 400, resp.content
    assert field in resp.json()
    assert not SLAPolicy.objects.exists()


@pytest.mark.parametrize(
    "role", [Role.SERVICE_DESK, Role.SUPPORT_ENGINEER, Role.DEVELOPER, Role.PRODUCT_OWNER]
)
def test_non_managers_read_but_cannot_write(api, make_user, role):
    user = make_user(role)
    cal = CalendarFactory()
    policy = PolicyFactory(calendar=cal)
    client = api.as_user(user)
    assert client.get("/api/v1/sla/calendars/").status_code == 200
    assert client.get(f"/api/v1/sla/policies/{policy.pk}/").status_code == 200
    assert client.post("/api/v1/sla/calendars/", CAL, format="json").status_code == 403
    assert (
        client.patch(f"/api/v1/sla/policies/{policy.pk}/", {"warn_percent": 10}, format="json").status_code
        == 403
    )
    assert client.patch(f"/api/v1/sla/calendars/{cal.pk}/", {"name": "x"}, format="json").status_code == 403


def test_anonymous_and_roleless_are_refused(api, make_user):
    assert api.get("/api/v1/sla/policies/").status_code in (401, 403)
    assert api.as_user(make_user()).get("/api/v1/sla/policies/").status_code == 403


def test_policy_list_query_count_does_not_grow(api, manager_user, django_assert_max_num_queries):
    client = api.as_user(manager_user)
    for _ in range(3):
        PolicyFactory()
    client.get("/api/v1/sla/policies/")
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/sla/policies/").status_code == 200
    for _ in range(20):
        PolicyFactory()
    with django_assert_max_num_queries(6):
        assert len(client.get("/api/v1/sla/policies/").json()["results"]) == 23

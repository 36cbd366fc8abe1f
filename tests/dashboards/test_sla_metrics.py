"""SLA metric definitions on hand-built data."""

from datetime import UTC, datetime, timedelta

import pytest

from dashboards.metrics import sla_metrics
from incidents.models import Incident
from sla.models import SLATimer
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _incident(n, created, resolved=None, **kwargs):
    service = kwargs.pop("service", None) or ServiceFactory()
    return Incident.objects.create(
        key=f"INC-{n}",
        title=f"i{n}",
        service=service,
        team=service.support_team,
        created_at=created,
        resolved_at=resolved,
        **kwargs,
    )


def _policy():
    from sla.models import BusinessCalendar, SLAPolicy

    calendar, _ = BusinessCalendar.objects.get_or_create(name="24x7", defaults={"always_open": True})
    policy, _ = SLAPolicy.objects.get_or_create(
        name="any",
        defaults={"priority": "P3", "response_minutes": 60, "resolution_minutes": 240, "calendar": calendar},
    )
    return policy


def _timer(incident, metric, *, stopped_after=None, breached_after=None, active=None):
    return SLATimer.objects.create(
        incident=incident,
        priority=incident.priority,
        team_id=incident.team_id,
        service_id=incident.service_id,
        customer_id=incident.customer_id,
        policy=_policy(),
        metric=metric,
        started_at=incident.created_at,
        due_at=incident.created_at + timedelta(hours=4),
        stopped_at=None if stopped_after is None else incident.created_at + stopped_after,
        breached_at=None if breached_after is None else incident.created_at + breached_after,
        is_active=stopped_after is None if active is None else active,
    )


def test_compliance_mtta_and_mttr_by_definition():
    # 1: response met after 10 min, resolved in 2 h (met)
    a = _incident(1, T0, resolved=T0 + timedelta(hours=2))
    _timer(a, "response", stopped_after=timedelta(minutes=10))
    _timer(a, "resolution", stopped_after=timedelta(hours=2))
    # 2: response met after 50 min; resolution breached, then resolved after 10 h
    b = _incident(2, T0 + timedelta(hours=1), resolved=T0 + timedelta(hours=11))
    _timer(b, "response", stopped_after=timedelta(minutes=50))
    _timer(b, "resolution", stopped_after=timedelta(hours=10), breached_after=timedelta(hours=4))
    # 3: response breached while still running; resolution still running (undecided)
    c = _incident(3, T0 + timedelta(hours=2))
    _timer(c, "response", breached_after=timedelta(hours=1), active=True)
    _timer(c, "resolution")
    # 4: outside the period
    d = _incident(4, T0 + timedelta(days=10), resolved=T0 + timedelta(days=10, hours=1))
    _timer(d, "response", breached_after=timedelta(hours=1), stopped_after=timedelta(hours=2))

    m = sla_metrics(start=T0, end=T0 + timedelta(days=1))
    assert m["incidents"] == 3
    assert m["response"] == {"met": 2, "breached": 1, "compliance": 66.7}
    assert m["resolution"] == {"met": 1, "breached": 1, "compliance": 50.0}
    assert m["mtta_seconds"] == 30 * 60  # mean of 10 and 50 minutes
    assert m["mttr_seconds"] == 6 * 3600  # mean of 2 h and 10 h


def test_empty_period_has_no_compliance():
    m = sla_metrics(start=T0, end=T0 + timedelta(days=1))
    assert m["response"] == {"met": 0, "breached": 0, "compliance": None}
    assert m["mtta_seconds"] is None and m["mttr_seconds"] is None


def test_api_filters_and_validates(api, manager_user):
    service = ServiceFactory()
    a = _incident(1, T0, resolved=T0 + timedelta(hours=1), service=service)
    _timer(a, "response", stopped_after=timedelta(minutes=5))
    b = _incident(2, T0)
    _timer(b, "response", breached_after=timedelta(hours=1), active=True)
    client = api.as_user(manager_user)
    response = client.get("/api/v1/metrics/sla/", {"from": "2026-03-02", "to": "2026-03-02"})
    body = response.json()
    assert response.status_code == 200, body
    assert body["response"] == {"met": 1, "breached": 1, "compliance": 50.0}
    only = client.get(
        "/api/v1/metrics/sla/", {"from": "2026-03-02", "to": "2026-03-02", "service": service.pk}
    )
    assert only.json()["response"]["compliance"] == 100.0
    bad = client.get("/api/v1/metrics/sla/", {"from": "yesterday", "to": "2026-03-01", "team": "x"})
    assert bad.status_code == 400 and "from" in bad.json()
    impossible = client.get("/api/v1/metrics/sla/", {"from": "2026-02-31"})
    assert impossible.status_code == 400 and "from" in impossible.json()
    reversed_range = client.get("/api/v1/metrics/sla/", {"from": "2026-03-05", "to": "2026-03-01"})
    assert reversed_range.status_code == 400


def test_query_count_does_not_grow_with_incidents(api, manager_user, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api.as_user(manager_user)
    service = ServiceFactory()
    for n in range(3):
        _timer(_incident(n, T0, service=service), "response", stopped_after=timedelta(minutes=n))
    with CaptureQueriesContext(connection) as small:
        client.get("/api/v1/metrics/sla/", {"from": "2026-03-02", "to": "2026-03-02"})
    for n in range(3, 60):
        _timer(_incident(n, T0, service=service), "response", stopped_after=timedelta(minutes=n))
    with CaptureQueriesContext(connection) as large:
        client.get("/api/v1/metrics/sla/", {"from": "2026-03-02", "to": "2026-03-02"})
    assert len(large) == len(small)


def test_clocks_voided_by_cancelling_count_in_neither(api, manager_user):
    a = _incident(1, T0, resolved=T0 + timedelta(hours=1))
    _timer(a, "response", stopped_after=timedelta(minutes=5))
    b = _incident(2, T0, status="cancelled")
    voided = _timer(b, "response", stopped_after=timedelta(minutes=30))
    voided.state = "cancelled"
    voided.save()
    m = sla_metrics(start=T0, end=T0 + timedelta(days=1))
    assert m["response"] == {"met": 1, "breached": 0, "compliance": 100.0}
    assert m["mtta_seconds"] == 5 * 60  # the cancellation acknowledged nothing
    assert m["incidents"] == 2

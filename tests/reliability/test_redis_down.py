"""Redis stopped: logging incidents, replying and moving cards still work through the API
(no 500, nothing lost); when Redis returns, the SLA warnings and breaches missed meanwhile
are fired within one sweep period, each exactly once."""

import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone

from accounts.roles import STAFF_ROLES, Role
from boards.models import Card, ColumnCategory
from incidents.models import Comment, Incident, IncidentEvent
from sla.models import BusinessCalendar, SLAEvent, SLAPolicy, SLATimer
from tests.boards.factories import BoardFactory, CardFactory, column_of
from tests.factories import ServiceFactory, UserFactory

from .helpers import Worker, database_url, record


def _policy():
    calendar = BusinessCalendar.objects.create(name="Always", timezone="UTC", always_open=True, hours={})
    for p in ("P1", "P2", "P3", "P4", "P5"):
        SLAPolicy.objects.create(
            name=f"Rel {p}", priority=p, response_minutes=60, resolution_minutes=240, calendar=calendar
        )


@pytest.fixture
def _groups(transactional_db):
    for name in STAFF_ROLES:
        Group.objects.get_or_create(name=name)


def test_writes_succeed_and_nothing_is_lost_while_redis_is_stopped(db, api, spare_redis, broker_at):
    from webhooks.models import Delivery, Subscription

    _policy()
    Subscription.objects.create(url="https://hooks.example.com/tandem", events=[])
    desk = UserFactory(roles=[Role.SERVICE_DESK])
    dev = UserFactory(roles=[Role.DEVELOPER])
    service = ServiceFactory()
    service.support_team.members.add(desk)
    board = BoardFactory(teams=[service.team])
    card = CardFactory(board=board)
    ready = column_of(board, ColumnCategory.READY)

    broker_at(spare_redis.url)
    spare_redis.stop()  # Tandem's broker is now unreachable

    api.as_user(desk)
    created = []
    for n in range(5):
        r = api.post(
            "/api/v1/incidents/",
            {
                "title": f"Broker down {n}",
                "description": "Logged while Redis is stopped.",
                "service": service.pk,
                "impact": "high",
                "urgency": "medium",
                "type": "incident",
            },
            format="json",
        )
        assert r.status_code == 201, r.content
        created.append(r.json()["id"])
    r = api.post(
        f"/api/v1/incidents/{created[0]}/comments/", {"body": "We are on it.", "public": True}, format="json"
    )
    assert r.status_code == 201, r.content
    r = api.post(f"/api/v1/incidents/{created[1]}/transition/", {"status": "in_progress"}, format="json")
    assert r.status_code == 200, r.content
    api.as_user(dev)
    r = api.post(f"/api/v1/cards/{card.pk}/move/", {"column": ready.pk}, format="json")
    assert r.status_code == 200, r.content

    # Nothing lost: every incident with its two clocks and its history, the reply, the move,
    # and the webhook deliveries stored for the retry sweep to send later. What is stored is
    # counted against what was acknowledged, recorded, and then asserted.
    incidents = Incident.objects.filter(pk__in=created)
    stored = {
        "incidents": (incidents.count(), 5),
        "clocks": (SLATimer.objects.filter(incident__in=incidents).count(), 10),
        "reply": (Comment.objects.filter(incident_id=created[0], public=True).count(), 1),
        "transition": (int(Incident.objects.get(pk=created[1]).status == "in_progress"), 1),
        "card move": (int(Card.objects.get(pk=card.pk).column_id == ready.pk), 1),
    }
    lost = sum(max(expected - found, 0) for found, expected in stored.values())
    record(
        "redis stopped: API writes",
        faults=["redis stopped"],
        checked=sum(expected for _, expected in stored.values()),
        lost=lost,
        notes="5 incidents, 10 clocks, 1 reply, 1 transition, 1 card move; webhook deliveries stored",
    )
    assert lost == 0, stored
    assert IncidentEvent.objects.filter(incident__in=incidents).count() >= 5
    assert Delivery.objects.count() >= 5


@pytest.mark.celery_worker
def test_missed_sla_events_fire_within_one_sweep_when_redis_returns(_groups, spare_redis):
    """A real worker and beat on our own redis-server; Redis goes away while timers fall due,
    comes back, and the first sweep after it fires every missed warning and breach once."""
    from incidents.services import incident_create

    _policy()
    desk = UserFactory(roles=[Role.SERVICE_DESK])
    service = ServiceFactory()
    incidents = [
        incident_create(actor=desk, title=f"Due while down {n}", service=service, impact="low", urgency="low")
        for n in range(20)
    ]
    period = 2
    worker = Worker(
        broker_url=spare_redis.url,
        db_url=database_url(connection.settings_dict),
        name="redis-return",
        sweep_seconds=period,
        pool="solo",
        concurrency=1,
    ).start()
    try:
        spare_redis.stop()
        # While Redis is away, every clock passes its warning and due instants.
        now = timezone.now()
        ids = [i.pk for i in incidents]
        SLATimer.objects.filter(incident_id__in=ids).update(
            warn_at=now - timedelta(minutes=10), due_at=now - timedelta(minutes=1)
        )
        time.sleep(period * 2)
        assert SLAEvent.objects.filter(timer__incident_id__in=ids).count() == 0  # nothing could sweep
        spare_redis.start()
        back = time.monotonic()
        deadline = back + 60
        while time.monotonic() < deadline:
            if SLATimer.objects.filter(incident_id__in=ids, state="running").count() == 0:
                break
            time.sleep(0.2)
        caught_up = time.monotonic() - back
    finally:
        worker.stop()
    timers = SLATimer.objects.filter(incident_id__in=ids)
    assert timers.filter(state="breached").count() == 40
    events = SLAEvent.objects.filter(timer__incident_id__in=ids)
    assert events.filter(kind="breach").count() == 40
    assert events.filter(kind="warning").count() == 40
    timeline = IncidentEvent.objects.filter(incident_id__in=ids, event="sla_breach")
    assert timeline.count() == 40  # one per timer: none doubled
    assert all(t.breached_at == t.due_at for t in timers)
    record(
        "redis returns: SLA catch-up",
        faults=["redis stopped", "redis restarted"],
        checked=80,
        lost=80 - events.count(),
        notes=f"40 breaches + 40 warnings fired {caught_up:.1f} s after Redis returned "
        f"(sweep period {period} s)",
    )
    # Within one sweep period of Redis returning (plus the worker's reconnect and one batch).
    assert caught_up <= period + 5, f"caught up only after {caught_up:.1f} s"


def test_sign_in_works_when_the_cache_redis_is_down(db, client, settings, spare_redis, password):
    """Production keeps the login throttle's counters in Redis: with Redis away, people can
    still sign in (unthrottled for the moment) instead of getting a 500."""
    user = UserFactory(roles=[Role.SERVICE_DESK])
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": spare_redis.url}
    }
    spare_redis.stop()
    response = client.post("/accounts/login/", {"username": user.username, "password": password})
    signed_in = response.status_code == 302 and "_auth_user_id" in client.session
    from django.test import Client

    wrong = Client().post("/accounts/login/", {"username": user.username, "password": "wrong-password"})
    refused = wrong.status_code == 200  # the form again, with its error
    # two sign-ins checked; "lost" counts the ones not answered as they should be
    record(
        "redis (cache) stopped: sign-in",
        faults=["redis stopped (cache)"],
        checked=2,
        lost=(not signed_in) + (not refused),
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session
    assert wrong.status_code == 200


def test_database_outage_is_a_clean_503_in_the_api(db, api, monkeypatch):
    """An unreachable database answers a retryable JSON 503, not a 500 page."""
    from django.db import OperationalError

    from incidents.api import views

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(views, "incident_rows", down)  # the list endpoint's queryset
    response = api.as_user(UserFactory(roles=[Role.SERVICE_DESK])).get("/api/v1/incidents/")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert response["Retry-After"] == "5"


def test_api_serves_when_the_cache_redis_is_down(db, api, settings, spare_redis):
    """The per-user API throttle counts in the cache (Redis in production): with Redis away
    the API keeps taking writes instead of answering 500."""
    desk = UserFactory(roles=[Role.SERVICE_DESK])
    service = ServiceFactory()
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": spare_redis.url}
    }
    spare_redis.stop()
    body = {
        "title": "Cache down",
        "description": "x",
        "service": service.pk,
        "impact": "low",
        "urgency": "low",
    }
    response = api.as_user(desk).post("/api/v1/incidents/", body, format="json")
    stored = response.status_code == 201 and Incident.objects.filter(pk=response.json()["id"]).exists()
    record(
        "redis (cache) stopped: API throttle",
        faults=["redis stopped (cache)"],
        checked=1,
        lost=int(not stored),
    )
    assert response.status_code == 201, response.content
    assert stored
    assert api.get("/api/v1/incidents/").status_code == 200

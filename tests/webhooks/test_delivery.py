"""Webhooks against a local HTTP receiver: signatures, retries, rollback, exactly-once."""

import hashlib
import hmac
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from webhooks.models import Delivery, DeliveryStatus, Subscription
from webhooks.services import (
    DISABLE_AFTER_FAILED_DELIVERIES,
    MAX_ATTEMPTS,
    delivery_attempt,
    delivery_redeliver,
    subscription_create,
    webhook_emit,
)

pytestmark = pytest.mark.django_db


def _due_now(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_delivery_is_signed_and_carries_ids(receiver, manager_user, django_capture_on_commit_callbacks):
    sub = subscription_create(url=receiver.url, events=["incident.created"], actor=manager_user)
    with django_capture_on_commit_callbacks() as callbacks:
        (delivery,) = webhook_emit("incident.created", {"id": 7, "key": "INC-1007"})
    assert len(callbacks) == 1  # queued after commit
    assert delivery_attempt(delivery.pk) == DeliveryStatus.DELIVERED
    (request,) = receiver.requests
    expected = "sha256=" + hmac.new(sub.secret.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Tandem-Signature"] == expected
    assert request["headers"]["X-Tandem-Delivery"] == str(delivery.delivery_id)
    assert receiver.json()["data"] == {"id": 7, "key": "INC-1007"}
    assert receiver.json()["event"] == "incident.created"
    delivery.refresh_from_db()
    assert delivery.response_code == 200 and delivery.attempts == 1


def test_only_subscribed_events_are_recorded(receiver, manager_user):
    subscription_create(url=receiver.url, events=["card.done"], actor=manager_user)
    assert webhook_emit("incident.created", {"id": 1}) == []
    assert len(webhook_emit("card.done", {"id": 1})) == 1


def test_server_error_is_retried_with_backoff(receiver, manager_user):
    subscription_create(url=receiver.url, events=[], actor=manager_user)
    receiver.statuses = [500, 502]
    (delivery,) = webhook_emit("card.moved", {"id": 3})
    assert delivery_attempt(delivery.pk) == DeliveryStatus.PENDING
    delivery.refresh_from_db()
    first_wait = delivery.next_attempt_at - timezone.now()
    assert delivery.attempts == 1 and delivery.response_code == 500 and first_wait > timedelta(seconds=20)
    assert delivery_attempt(delivery.pk) is None  # not due yet
    _due_now(delivery)
    assert delivery_attempt(delivery.pk) == DeliveryStatus.PENDING
    delivery.refresh_from_db()
    assert delivery.next_attempt_at - timezone.now() > first_wait  # exponential
    _due_now(delivery)
    assert delivery_attempt(delivery.pk) == DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 3
    assert len({r["headers"]["X-Tandem-Delivery"] for r in receiver.requests}) == 1


def test_nothing_is_recorded_or_sent_when_the_transaction_rolls_back(
    receiver, manager_user, django_capture_on_commit_callbacks
):
    subscription_create(url=receiver.url, events=[], actor=manager_user)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        webhook_emit("incident.updated", {"id": 1})
        raise RuntimeError("the change failed")
    assert not Delivery.objects.exists()
    assert callbacks == []
    assert receiver.requests == []


@pytest.mark.django_db(transaction=True)
def test_duplicate_task_execution_sends_exactly_once(receiver, manager_user):
    subscription_create(url=receiver.url, events=[], actor=manager_user)
    (delivery,) = webhook_emit("sla.breach", {"id": 9})
    barrier = threading.Barrier(4)
    results = []

    def run():
        barrier.wait()
        results.append(delivery_attempt(delivery.pk))
        connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(receiver.requests) == 1
    assert results.count(DeliveryStatus.DELIVERED) == 1
    assert delivery_attempt(delivery.pk) is None  # and once more, later: still nothing


def test_gives_up_and_disables_after_repeated_failures(receiver, manager_user):
    sub = subscription_create(url=receiver.url, events=[], actor=manager_user)
    receiver.statuses = [500] * (MAX_ATTEMPTS * DISABLE_AFTER_FAILED_DELIVERIES)
    for _ in range(DISABLE_AFTER_FAILED_DELIVERIES):
        (delivery,) = webhook_emit("card.moved", {"id": 1})
        for _ in range(MAX_ATTEMPTS):
            _due_now(delivery)
            delivery_attempt(delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.FAILED
    sub.refresh_from_db()
    assert sub.active is False and "Disabled automatically" in sub.disabled_reason
    assert webhook_emit("card.moved", {"id": 2}) == []


def test_unreachable_receiver_is_logged_not_raised(manager_user):
    subscription_create(url="http://127.0.0.1:9/nothing-listens", events=[], actor=manager_user)
    (delivery,) = webhook_emit("card.done", {"id": 1})
    assert delivery_attempt(delivery.pk) == DeliveryStatus.PENDING
    delivery.refresh_from_db()
    assert delivery.last_error and delivery.response_code is None


def test_redeliver_on_demand(receiver, manager_user):
    subscription_create(url=receiver.url, events=[], actor=manager_user)
    (delivery,) = webhook_emit("card.done", {"id": 1})
    delivery_attempt(delivery.pk)
    delivery_redeliver(delivery=delivery)
    assert delivery_attempt(delivery.pk) == DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 2


@pytest.mark.parametrize("role, allowed", [("manager", True), ("developer", False), ("service_desk", False)])
def test_api_permissions_and_validation(api, make_user, role, allowed, receiver):
    client = api.as_user(make_user(role))
    listing = client.get("/api/v1/webhooks/")
    assert listing.status_code == (200 if allowed else 403)
    created = client.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["incident.created"]})
    assert created.status_code == (201 if allowed else 403)
    if allowed:
        body = created.json()
        assert {"id", "url", "events", "secret"} <= set(body) and len(body["secret"]) >= 16
        bad = client.post("/api/v1/webhooks/", {"url": "ftp://x.example", "events": ["nope"]})
        assert bad.status_code == 400 and {"url", "events"} <= set(bad.json())
        sub = Subscription.objects.get(pk=body["id"])
        webhook_emit("incident.created", {"id": 1})
        log = client.get(f"/api/v1/webhooks/{sub.pk}/deliveries/").json()
        assert log["results"][0]["status"] == "pending"


def test_change_decision_and_escalation_emit_events(manager_user, receiver, engineer_user, po_user):
    from changes.services import change_request_create, change_request_triage
    from tests.factories import DevTeamFactory

    subscription_create(url=receiver.url, events=["change_request.decided"], actor=manager_user)
    change = change_request_create(title="X", actor=engineer_user, team=DevTeamFactory())
    change_request_triage(change=change, decision="defer", actor=po_user, reason="Later")
    (delivery,) = Delivery.objects.all()
    assert delivery.payload["key"] == change.key and delivery.payload["status"] == "deferred"


def test_browser_page_for_managers_only(client, make_user, receiver):
    manager = make_user("manager")
    client.force_login(make_user("developer"))
    assert client.get("/webhooks/").status_code == 403
    client.force_login(manager)
    bad = client.post("/webhooks/", {"url": "not a url", "description": "typed"})
    assert bad.status_code == 400 and "typed" in bad.content.decode()
    assert client.post("/webhooks/", {"url": receiver.url, "events": ["card.done"]}).status_code == 302
    sub = Subscription.objects.get()
    webhook_emit("card.done", {"id": 1})
    page = client.get("/webhooks/").content.decode()
    assert sub.secret in page and "card.done" in page
    client.post(f"/webhooks/{sub.pk}/toggle/")
    sub.refresh_from_db()
    assert sub.active is False


def test_incident_lifecycle_and_sla_breaches_emit_events(manager_user, receiver, desk_user):
    from datetime import timedelta

    from incidents.services import incident_create, incident_take
    from sla.models import BusinessCalendar, SLAPolicy
    from sla.services import sla_sweep_tick
    from tests.factories import ServiceFactory, TeamFactory

    subscription_create(url=receiver.url, events=[], actor=manager_user)
    calendar = BusinessCalendar.objects.create(name="24x7", always_open=True, hours={})
    SLAPolicy.objects.create(
        name="P3", priority="P3", response_minutes=1, resolution_minutes=2, calendar=calendar, pause_on=[]
    )
    service = ServiceFactory(support_team=TeamFactory(members=[desk_user]))
    incident = incident_create(
        actor=desk_user, title="Down", service=service, at=timezone.now() - timedelta(minutes=10)
    )
    # Taking it stops the response clock: its warning and breach fire on that path. The
    # resolution clock keeps running: only the (PostgreSQL, set-based) sweep fires it.
    incident_take(incident=incident, actor=desk_user)
    assert sla_sweep_tick(dispatch=False) == {"warnings": 1, "breaches": 1, "requeued": 0, "more": False}
    sla_sweep_tick(dispatch=False)  # nothing more to fire, nothing sent twice
    events = sorted(Delivery.objects.values_list("event", flat=True))
    assert events.count("incident.created") == 1
    assert "incident.updated" in events

    def metrics(event):
        return sorted(
            p["metric"] for p in Delivery.objects.filter(event=event).values_list("payload", flat=True)
        )

    assert metrics("sla.warning") == ["resolution", "response"]
    assert metrics("sla.breach") == ["resolution", "response"]
    resolution = Delivery.objects.get(event="sla.breach", payload__metric="resolution").payload
    assert resolution["incident"] == incident.pk
    assert resolution["at"].startswith(
        (incident.created_at + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M")
    )

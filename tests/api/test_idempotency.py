"""Idempotency-Key: a retried create happens once, even when the retry races the original."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from incidents.models import Comment, Incident
from tests.boards.factories import BoardFactory
from tests.factories import DevTeamFactory, ServiceFactory
from tracker.models import IdempotentRequest
from tracker.services import idempotency_keys_expire
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def body():
    return {"title": "Checkout down", "service": ServiceFactory().pk, "impact": "high", "urgency": "high"}


def test_a_retried_create_returns_the_first_response_and_creates_once(api, desk_user, body):
    client = api.as_user(desk_user)
    first = client.post("/api/v1/incidents/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/v1/incidents/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Incident.objects.count() == 1
    other = client.post("/api/v1/incidents/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.status_code == 201 and Incident.objects.count() == 2


def test_the_same_key_with_another_body_is_a_422(api, desk_user, body):
    client = api.as_user(desk_user)
    client.post("/api/v1/incidents/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    changed = client.post(
        "/api/v1/incidents/", {**body, "title": "Something else"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert changed.status_code == 422 and changed.json()["code"] == "idempotency_key_reused"
    assert Incident.objects.count() == 1


def test_a_failed_create_stores_nothing_and_the_retry_runs_again(api, desk_user, body):
    client = api.as_user(desk_user)
    bad = client.post(
        "/api/v1/incidents/", {**body, "service": 999999}, format="json", HTTP_IDEMPOTENCY_KEY="k-9"
    )
    assert bad.status_code == 400
    assert not IdempotentRequest.objects.exists()
    # the same key with the corrected body now creates
    good = client.post("/api/v1/incidents/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-9")
    assert good.status_code == 201 and Incident.objects.count() == 1


def test_keys_are_per_user(api, desk_user, make_user, body):
    api.as_user(desk_user).post("/api/v1/incidents/", body, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    other = APIClient()
    other.force_authenticate(make_user("service_desk"))
    response = other.post("/api/v1/incidents/", body, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Incident.objects.count() == 2


def test_bad_keys_are_a_400(api, desk_user, body):
    client = api.as_user(desk_user)
    response = client.post("/api/v1/incidents/", body, format="json", HTTP_IDEMPOTENCY_KEY="x" * 101)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()


def test_comments_cards_and_change_requests_honour_the_key(api, make_user, desk_user, body):
    client = api.as_user(desk_user)
    incident = client.post("/api/v1/incidents/", body, format="json").json()
    for _ in range(2):
        client.post(
            f"/api/v1/incidents/{incident['id']}/comments/",
            {"body": "On it", "public": False},
            format="json",
            HTTP_IDEMPOTENCY_KEY="c-1",
        )
    assert Comment.objects.filter(incident_id=incident["id"], body="On it").count() == 1
    dev = api.__class__().as_user(make_user("developer"))
    board = BoardFactory()
    for _ in range(2):
        dev.post(
            "/api/v1/cards/", {"board": board.pk, "title": "Fix"}, format="json", HTTP_IDEMPOTENCY_KEY="d-1"
        )
    assert board.cards.filter(title="Fix").count() == 1
    po = api.__class__().as_user(make_user("product_owner"))
    team = DevTeamFactory()
    codes = [
        po.post(
            "/api/v1/change-requests/",
            {"title": "Dark mode", "team": team.pk},
            format="json",
            HTTP_IDEMPOTENCY_KEY="r-1",
        )
        for _ in range(2)
    ]
    assert [c.status_code for c in codes] == [201, 201]
    assert codes[0].json()["id"] == codes[1].json()["id"]


def test_expired_keys_are_forgotten(api, desk_user, body):
    api.as_user(desk_user).post("/api/v1/incidents/", body, format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert idempotency_keys_expire(now=timezone.now() + timedelta(hours=23)) == 0
    assert idempotency_keys_expire(now=timezone.now() + timedelta(hours=25)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_retry_racing_the_original_waits_for_it_and_gets_its_response(desk_user, body):
    """Eight copies of one request at the same instant: one incident, one webhook
    delivery set, eight identical 201 answers."""
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=desk_user)
    barrier, results, lock = threading.Barrier(8), [], threading.Lock()

    def send():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        try:
            barrier.wait()
            response = client.post("/api/v1/incidents/", body, format="json", HTTP_IDEMPOTENCY_KEY="race")
            with lock:
                results.append((response.status_code, response.json().get("key")))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert Incident.objects.count() == 1
    key = Incident.objects.get().key
    assert results == [(201, key)] * 8
    assert Delivery.objects.count() == 0  # no subscription: nothing sent twice either

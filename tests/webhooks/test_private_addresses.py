"""Webhooks only call public addresses: no requests into this host or its network (SSRF),
checked when a subscription is saved and again when each delivery is sent."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError

from webhooks.models import Delivery, DeliveryStatus, Subscription, validate_webhook_url
from webhooks.services import delivery_attempt, subscription_create, webhook_emit

pytestmark = pytest.mark.django_db


@pytest.fixture
def guarded(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://api.localhost/hook",
        "http://10.0.0.5/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_private_and_local_addresses_are_refused_on_save(guarded, url):
    with pytest.raises(ValidationError) as exc:
        validate_webhook_url(url)
    assert "public addresses only" in str(exc.value)


def test_public_addresses_and_names_are_accepted(guarded):
    validate_webhook_url("https://hooks.example.com/tandem")
    validate_webhook_url("http://93.184.216.34/hook")


def test_the_api_answers_400_with_a_field_message(guarded, api, manager_user):
    response = api.as_user(manager_user).post(
        "/api/v1/webhooks/", {"url": "http://169.254.169.254/", "events": []}, format="json"
    )
    assert response.status_code == 400
    assert "public addresses only" in response.json()["url"][0]
    assert not Subscription.objects.exists()


def test_a_name_resolving_to_a_private_address_is_refused_at_send_time(
    guarded, manager_user, monkeypatch, django_capture_on_commit_callbacks
):
    subscription = subscription_create(url="https://hooks.example.com/tandem", actor=manager_user)
    import socket

    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 443))],
    )
    delivery = webhook_emit("incident.created", {"id": 1})[0]
    delivery_attempt(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.subscription_id == subscription.pk
    assert delivery.response_code is None
    assert "non-public address (10.1.2.3)" in delivery.last_error


def test_a_redirect_is_an_answer_not_followed(manager_user):
    """A receiver that redirects (here to an internal address) is not followed."""
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            self.send_response(307)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        subscription_create(url=f"http://127.0.0.1:{server.server_address[1]}/hook", actor=manager_user)
        delivery = webhook_emit("incident.created", {"id": 1})[0]
        delivery_attempt(delivery.pk)
    finally:
        server.shutdown()
        server.server_close()
    delivery.refresh_from_db()
    assert hits == ["/hook"]
    assert delivery.response_code == 307 and delivery.status != DeliveryStatus.DELIVERED
    assert Delivery.objects.count() == 1


def test_the_connection_goes_to_the_address_that_was_checked(guarded, receiver, manager_user, monkeypatch):
    """DNS re-pointing between the check and the connection (rebinding) changes nothing:
    the name is resolved once, checked, and the socket opened to that very address."""
    import socket

    from webhooks import services

    real = socket.getaddrinfo
    lookups = []

    def rebinding(host, port, *args, **kwargs):
        if host == "hooks.example.test":
            lookups.append(host)
            address = "127.0.0.1" if len(lookups) == 1 else "10.9.9.9"  # public once, then internal
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    # The receiver runs on 127.0.0.1: let the check treat it as the public address here.
    monkeypatch.setattr(services, "is_public_address", lambda address: address == "127.0.0.1")
    port = receiver.url.split(":")[2].split("/")[0]
    subscription_create(url=f"http://hooks.example.test:{port}/hook", actor=manager_user)
    delivery = webhook_emit("incident.created", {"id": 1})[0]
    delivery_attempt(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED, delivery.last_error
    assert lookups == ["hooks.example.test"]
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.example.test:{port}"

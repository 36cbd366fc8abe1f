"""Emitting events and delivering them.

`webhook_emit` is called by other services inside their transactions: it writes one
Delivery per interested subscription (rolled back with the caller) and queues the sends
after commit. `delivery_attempt` sends one delivery at most once at a time: it claims the
row with SKIP LOCKED and acts only on a pending row, so a task delivered twice cannot send
twice. Failures back off exponentially; the beat sweep picks up anything a lost publish
or a broker outage left behind.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.message import Message
from typing import IO, Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts.models import User
from audit.services import audit_created, audit_deleted, audit_snapshot, audit_updated
from tracker.tasks import enqueue_on_commit

from .models import Delivery, DeliveryStatus, Event, Subscription, is_public_address, validate_webhook_url

logger = logging.getLogger(__name__)

Actor = AbstractBaseUser | AnonymousUser | None
_Connection = TypeVar("_Connection", bound=http.client.HTTPConnection)

MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
DISABLE_AFTER_FAILED_DELIVERIES = 10
TIMEOUT_SECONDS = 5
USER_AGENT = "Tandem-Webhooks/1"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_of(delivery: Delivery) -> bytes:
    envelope = {
        "id": str(delivery.delivery_id),
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(envelope, cls=DjangoJSONEncoder, sort_keys=True).encode()


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS))


def webhook_emit(event: str, data: dict[str, Any], *, at: datetime | None = None) -> list[Delivery]:
    """Record `event` for every subscription that wants it; sent after the caller commits."""
    return webhook_emit_many(event, [data], at=at)


def webhook_emit_many(
    event: str, items: list[dict[str, Any]], *, at: datetime | None = None
) -> list[Delivery]:
    """The same for many events of one kind (an SLA sweep's batch): one query for the
    subscriptions, one insert, one task per delivery."""
    if event not in Event.values:
        raise ValueError(f"unknown webhook event {event}")
    if not items:
        return []
    now = at or timezone.now()
    subscriptions = [s for s in Subscription.objects.filter(active=True) if s.wants(event)]
    if not subscriptions:
        return []
    payloads = [json.loads(json.dumps(data, cls=DjangoJSONEncoder)) for data in items]
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(subscription=s, event=event, payload=payload, created_at=now, next_attempt_at=now)
            for payload in payloads
            for s in subscriptions
        ]
    )
    from .tasks import webhook_deliver  # cycle: webhooks.tasks imports this module

    for delivery in deliveries:
        enqueue_on_commit(webhook_deliver, delivery.pk)  # type: ignore[no-untyped-call]  # tracker.tasks is untyped
    return deliveries


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A receiver answers for itself: a redirect is its answer (a failure), never followed
    (it could point anywhere, the internal network included)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> None:
        return None


def _vetted_address(url: str) -> str | None:
    """The address to connect to: the host's, resolved once and checked to be public, so
    the connection goes exactly where the check looked (no DNS re-pointing in between).
    None when private addresses are allowed (resolve as usual)."""
    if getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", False):
        return None
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = [
        str(info[4][0]) for info in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    ]
    blocked = sorted({a for a in addresses if not is_public_address(a)})
    if blocked or not addresses:
        raise ValueError(f"{parts.hostname} resolves to a non-public address ({', '.join(blocked)})")
    return addresses[0]


def _pinned(connection_class: type[_Connection], address: str) -> type[_Connection]:
    """A connection class that opens its socket to `address` while speaking to the URL's
    host (Host header, TLS server name and certificate check stay the host's)."""

    class Pinned(connection_class):  # type: ignore[valid-type, misc]  # subclasses the class it is given
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = lambda target, *a, **k: socket.create_connection(
                (address, target[1]), *a, **k
            )

    return Pinned


class _PinnedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_pinned(http.client.HTTPConnection, self.address), req)


class _PinnedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        context = self._context  # type: ignore[attr-defined]  # set by HTTPSHandler.__init__, not in its stub
        return self.do_open(_pinned(http.client.HTTPSConnection, self.address), req, context=context)


def _opener_for(address: str | None) -> urllib.request.OpenerDirector:
    handlers: list[urllib.request.BaseHandler | type[urllib.request.BaseHandler]] = [_NoRedirects]
    if address is not None:
        # No proxy from the environment either: it would resolve and connect on its own.
        handlers += [
            urllib.request.ProxyHandler({}),
            _PinnedHTTPHandler(address),
            _PinnedHTTPSHandler(address),
        ]
    return urllib.request.build_opener(*handlers)


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    opener = _opener_for(_vetted_address(url))
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) only, validated
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def delivery_attempt(delivery_id: int) -> str | None:
    """Try one pending delivery. Returns its new status, or None when there was nothing to do
    (already delivered, given up, not due yet, or being sent by another worker)."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:
            return None
        now = timezone.now()
        if delivery.next_attempt_at and delivery.next_attempt_at > now + timedelta(seconds=1):
            return None
        subscription = Subscription.objects.get(pk=delivery.subscription_id)
        body = body_of(delivery)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Tandem-Event": delivery.event,
            "X-Tandem-Delivery": str(delivery.delivery_id),
            "X-Tandem-Signature": sign(subscription.secret, body),
        }
        # The row stays locked while we send: a duplicate task skips it instead of re-sending.
        code, error = None, ""
        try:
            code = _post(subscription.url, body, headers)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            error = str(getattr(exc, "reason", exc))[:300]
        delivery.attempts += 1
        delivery.response_code = code
        delivery.last_error = error or ("" if code and 200 <= code < 300 else f"HTTP {code}")
        if code is not None and 200 <= code < 300:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
            Subscription.objects.filter(pk=subscription.pk).update(consecutive_failures=0)
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
            _count_failure(subscription)
        else:
            delivery.next_attempt_at = timezone.now() + backoff(delivery.attempts)
        delivery.save()
        next_at = delivery.next_attempt_at
        if delivery.status == DeliveryStatus.PENDING and next_at is not None:
            countdown = (next_at - timezone.now()).total_seconds()
            transaction.on_commit(lambda: _retry_later(delivery.pk, countdown))
        return delivery.status


def _retry_later(delivery_id: int, countdown: float) -> None:
    from .tasks import webhook_deliver  # cycle: webhooks.tasks imports this module

    try:
        webhook_deliver.apply_async(args=[delivery_id], countdown=max(countdown, 0), retry=False)
    except (OperationalError, OSError):
        logger.warning("could not schedule webhook retry %s now; the beat sweep will", delivery_id)


def _count_failure(subscription: Subscription) -> None:
    locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
    locked.consecutive_failures += 1
    if locked.consecutive_failures >= DISABLE_AFTER_FAILED_DELIVERIES:
        locked.active = False
        locked.disabled_reason = (
            f"Disabled automatically after {locked.consecutive_failures} deliveries failed in a row."
        )
    locked.save(update_fields=["consecutive_failures", "active", "disabled_reason"])


@transaction.atomic
def delivery_redeliver(*, delivery: Delivery) -> Delivery:
    """Send a delivery again on demand, as a new attempt series with the same id and body."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    from .tasks import webhook_deliver  # cycle: webhooks.tasks imports this module

    enqueue_on_commit(webhook_deliver, delivery.pk)  # type: ignore[no-untyped-call]  # tracker.tasks is untyped
    return delivery


def due_delivery_ids(limit: int = 500) -> list[int]:
    return list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def _validate_subscription(*, url: str | None = None, events: Iterable[str] | None = None) -> None:
    errors: dict[str, list[str]] = {}
    if events is not None:
        unknown = [e for e in events if e not in Event.values]
        if unknown:
            errors["events"] = [f"Unknown events: {', '.join(unknown)}. Known: {', '.join(Event.values)}."]
    if url is not None:
        try:
            validate_webhook_url(url)
        except ValidationError as exc:
            errors["url"] = exc.messages
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def subscription_create(
    *,
    url: str,
    actor: Actor,
    events: Iterable[str] = (),
    secret: str | None = None,
    description: str = "",
    active: bool = True,
) -> Subscription:
    _validate_subscription(url=url, events=events)
    subscription = Subscription(
        url=url,
        events=list(events),
        created_by=actor if isinstance(actor, User) else None,
        description=description,
        active=active,
    )
    if secret:
        subscription.secret = secret
    subscription.save()
    audit_created(actor=actor, instance=subscription)
    return subscription


@transaction.atomic
def subscription_update(*, subscription: Subscription, actor: Actor, **fields: Any) -> Subscription:
    """Change a subscription; re-activating it clears the failure count."""
    _validate_subscription(url=fields.get("url"), events=fields.get("events"))
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    before = audit_snapshot(subscription)
    for name, value in fields.items():
        setattr(subscription, name, value)
    if fields.get("active"):
        subscription.consecutive_failures = 0
        subscription.disabled_reason = ""
    subscription.save()
    audit_updated(actor=actor, instance=subscription, before=before)
    return subscription


@transaction.atomic
def subscription_delete(*, subscription: Subscription, actor: Actor) -> None:
    """Delete a subscription and its delivery log."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    audit_deleted(actor=actor, instance=subscription)
    subscription.delete()

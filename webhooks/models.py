"""Outbound webhooks: subscriptions and a log of every delivery."""

import ipaddress
import secrets
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models


class Event(models.TextChoices):
    INCIDENT_CREATED = "incident.created", "Incident created"
    INCIDENT_UPDATED = "incident.updated", "Incident updated"
    INCIDENT_ESCALATED = "incident.escalated", "Incident escalated to development"
    SLA_WARNING = "sla.warning", "SLA warning"
    SLA_BREACH = "sla.breach", "SLA breach"
    CARD_MOVED = "card.moved", "Card moved"
    CARD_DONE = "card.done", "Card done"
    CHANGE_DECIDED = "change_request.decided", "Change request decided"


def new_secret() -> str:
    return secrets.token_hex(24)


# Only plain web addresses: no file://, ftp:// or other schemes a receiver could abuse.
_web_address = URLValidator(schemes=["http", "https"], message="Use an http:// or https:// address.")


def is_public_address(address: str) -> bool:
    """True for an address on the public internet (not loopback, private, link-local, ...)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_global and not ip.is_multicast


def validate_webhook_url(value: str) -> None:
    _web_address(value)
    if getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", False):
        return
    host = (urlsplit(value).hostname or "").strip("[]").lower()
    literal = host.replace(".", "").isdigit() or ":" in host
    if host == "localhost" or host.endswith(".localhost") or (literal and not is_public_address(host)):
        raise ValidationError(
            "Webhooks go to public addresses only, not to this server or the internal network.",
            code="private_address",
        )


class Subscription(models.Model):
    url = models.URLField(max_length=500, validators=[validate_webhook_url])
    events = models.JSONField(default=list, help_text="Event names; empty means every event.")
    secret = models.CharField(max_length=100, default=new_secret)
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Consecutive deliveries that gave up; reset by any success. Too many disables it.
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.url

    def wants(self, event: str) -> bool:
        return self.active and (not self.events or event in self.events)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Gave up"


class Delivery(models.Model):
    """One event for one subscription. Created in the transaction that caused the event, so a
    rolled-back change never sends anything; sent by Celery after commit."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="webhook_delivery_due", condition=models.Q(status="pending")
            ),
            # /metrics counts the given-up deliveries on every scrape.
            models.Index(
                fields=["created_at"], name="webhook_delivery_failed", condition=models.Q(status="failed")
            ),
            models.Index(fields=["subscription", "created_at"]),
        ]

    def __str__(self):
        return f"{self.event} → {self.subscription_id} ({self.status})"

"""Outbound webhooks' gauges on /metrics (registered with tracker.metrics at start-up)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Q
from prometheus_client.core import GaugeMetricFamily, Metric

from .models import Delivery, DeliveryStatus, Subscription


def webhook_gauges() -> Iterator[Metric]:
    """Two queries, each served by a partial index (pending, failed) or a small table."""
    row = Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]).aggregate(
        pending=Count("pk", filter=Q(status=DeliveryStatus.PENDING)),
        retrying=Count("pk", filter=Q(status=DeliveryStatus.PENDING, attempts__gt=0)),
        failed=Count("pk", filter=Q(status=DeliveryStatus.FAILED)),
    )
    deliveries = GaugeMetricFamily(
        "tandem_webhook_deliveries",
        "Webhook deliveries by state: pending (retrying: pending after a failed attempt), "
        "failed (given up after every attempt).",
        labels=["state"],
    )
    for state in ("pending", "retrying", "failed"):
        deliveries.add_metric([state], row[state])
    yield deliveries
    disabled = Subscription.objects.filter(active=False).exclude(disabled_reason="").count()
    yield GaugeMetricFamily(
        "tandem_webhook_subscriptions_disabled",
        "Subscriptions switched off automatically after deliveries failed in a row.",
        value=disabled,
    )

"""The customer channel's gauges on /metrics (registered with tracker.metrics at start-up)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Q
from prometheus_client.core import GaugeMetricFamily, Metric

from .models import InboundMessage, Mailbox, OutboundMail, Outcome, SendState


def mail_gauges() -> Iterator[Metric]:
    """Three queries, each on a partial or leading-column index or the small mailbox table."""
    row = OutboundMail.objects.filter(state__in=[SendState.PENDING, SendState.FAILED]).aggregate(
        pending=Count("pk", filter=Q(state=SendState.PENDING)),
        failed=Count("pk", filter=Q(state=SendState.FAILED)),
    )
    outbound = GaugeMetricFamily(
        "tandem_outbound_mail", "Outbound mails by state: pending (not sent yet), failed (gave up).",
        labels=["state"],
    )  # fmt: skip
    for state in ("pending", "failed"):
        outbound.add_metric([state], row[state])
    yield outbound
    yield GaugeMetricFamily(
        "tandem_inbound_mail_failed",
        "Fetched mails that could not be turned into an incident or a comment.",
        value=InboundMessage.objects.filter(outcome=Outcome.FAILED).count(),
    )
    yield GaugeMetricFamily(
        "tandem_mailboxes_failing",
        "Active mailboxes whose last poll failed.",
        value=Mailbox.objects.filter(active=True).exclude(last_error="").count(),
    )

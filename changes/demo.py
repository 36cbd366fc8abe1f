"""A populated triage queue, and a few decided requests so the history reads naturally."""

from datetime import timedelta

from django.utils import timezone

from incidents.models import OPEN_STATUSES, Incident

from .models import ChangeRequest, Kind, Source
from .services import change_request_create, change_request_triage

REQUESTS = [
    # title, source, kind, justification, requester, days ago, decision, reason
    (
        "Let merchants export payouts as CSV",
        Source.CUSTOMER,
        Kind.NORMAL,
        "Asked by 14 merchants this quarter.",
        "tariq",
        9,
        None,
        "",
    ),
    (
        "Retry failed webhooks with backoff",
        Source.SUPPORT,
        Kind.NORMAL,
        "Half of the 'missing payment' incidents.",
        "tess",
        6,
        None,
        "",
    ),
    (
        "Show settlement date on the portal",
        Source.SALES,
        Kind.STANDARD,
        "Prospects ask for it in every demo.",
        "max",
        4,
        None,
        "",
    ),
    (
        "Rotate the acquirer API key",
        Source.ENGINEERING,
        Kind.EMERGENCY,
        "Key exposed in a vendor's log files.",
        "dana",
        1,
        None,
        "",
    ),
    (
        "Dark mode for the merchant portal",
        Source.CUSTOMER,
        Kind.NORMAL,
        "Nice to have.",
        "sara",
        20,
        "reject",
        "Not in this year's roadmap; revisit with the redesign.",
    ),
    (
        "Bulk refunds from a spreadsheet",
        Source.CUSTOMER,
        Kind.NORMAL,
        "Large merchants refund in batches.",
        "tariq",
        15,
        "defer",
        "Needs the new refunds API first (Q3).",
    ),
    (
        "Add the payment method to receipts",
        Source.SUPPORT,
        Kind.NORMAL,
        "Cuts 'which card?' tickets.",
        "sam",
        12,
        "accept",
        "",
    ),
]


def seed(ctx, log):
    if ChangeRequest.objects.exists():
        log("change requests already there")
        return
    team = ctx.teams["Payments Dev"]
    now = timezone.now()
    # Open incidents on the team's services back up the support-raised requests.
    open_incidents = list(
        Incident.objects.filter(service__team=team, status__in=OPEN_STATUSES).order_by("created_at")[:6]
    )
    for n, (title, source, kind, justification, requester, days, decision, reason) in enumerate(REQUESTS):
        linked = open_incidents[2 * n : 2 * n + 2] if source == Source.SUPPORT or n < 2 else []
        change = change_request_create(
            incidents=linked,
            title=title,
            actor=ctx.users[requester],
            source=source,
            kind=kind,
            justification=justification,
            team=team,
            at=now - timedelta(days=days),
        )
        if decision:
            change_request_triage(
                change=change,
                decision=decision,
                actor=ctx.users["paula"],
                reason=reason,
                at=now - timedelta(days=days - 1),
            )
    log(f"{len(REQUESTS)} change requests")

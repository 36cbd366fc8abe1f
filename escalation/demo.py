"""Demo escalations in each state: waiting on an expedite card in the active sprint, waiting
in the backlog, fixed and back with support, and resolved after the fix."""

from datetime import timedelta

from django.utils import timezone

from boards.models import ColumnCategory
from boards.services import card_move
from incidents.models import Status
from incidents.services import incident_create, incident_escalate, incident_take, incident_transition

from .models import Escalation
from .services import escalations_on_card_done, incident_escalate_to_development

STORIES = [
    # title, service, impact, urgency, customer, what happens after escalation
    (
        "Refunds stuck in 'pending' for Maestro cards",
        "Payments API",
        "high",
        "medium",
        "Northwind Traders",
        "waiting",
    ),
    ("Statement PDF shows wrong VAT rounding", "Payouts", "medium", "low", "Fabrikam Foods", "backlog"),
    ("3-D Secure challenge loops on Safari", "Payments API", "high", "high", "Contoso Retail", "fixed"),
    ("Payout report misses last day of month", "Payouts", "medium", "medium", "Tailspin Travel", "resolved"),
]


def seed(ctx, log):
    if Escalation.objects.exists():
        log("escalations already there")
        return
    board = ctx.extra.get("board")
    if board is None:
        log("no demo board: skipping escalations")
        return
    engineer, desk = ctx.users["tariq"], ctx.users["sam"]
    support = ctx.teams["Application Support"]
    now = timezone.now()
    done_column = board.columns.filter(category=ColumnCategory.DONE).order_by("position").first()
    for n, (title, service, impact, urgency, customer, fate) in enumerate(STORIES):
        at = now - timedelta(days=6 - n, hours=3)
        incident = incident_create(
            actor=desk,
            title=title,
            service=ctx.services[service],
            impact=impact,
            urgency=urgency,
            customer=ctx.customers[customer],
            description="Reported by the customer's finance team; reproducible.",
            at=at,
        )
        incident_take(incident=incident, actor=desk, at=at + timedelta(minutes=10))
        incident = incident_escalate(
            incident=incident,
            actor=desk,
            team=support,
            note="Needs log analysis.",
            at=at + timedelta(minutes=40),
        )
        incident_take(incident=incident, actor=engineer, at=at + timedelta(hours=1))
        result = incident_escalate_to_development(
            incident=incident,
            actor=engineer,
            note="Root cause is in the code: see the attached trace.",
            at=at + timedelta(hours=2),
        )
        if fate in ("fixed", "resolved") and done_column is not None:
            card_move(card=result.card, column=done_column, actor=ctx.users["dev"], at=at + timedelta(days=2))
            escalations_on_card_done(card=result.card, actor=ctx.users["dev"], at=at + timedelta(days=2))
            if fate == "resolved":
                incident.refresh_from_db()
                incident_transition(
                    incident=incident,
                    actor=engineer,
                    status=Status.RESOLVED,
                    resolution_code="fixed",
                    note="Customer confirmed the fix.",
                    at=at + timedelta(days=2, hours=3),
                )
    log(f"{len(STORIES)} escalated incidents")

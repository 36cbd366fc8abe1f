"""Demo incidents: a believable fortnight at the Payments support desk.

Everything goes through incidents.services with backdated instants, so the history, the
SLA timers and the timeline are the real thing. Idempotent: skipped when the first demo
incident already exists.
"""

from datetime import timedelta

from django.utils import timezone

from . import services
from .models import Incident

FIRST_TITLE = "Card payments declined with error 502 at checkout"

# (title, service, impact, urgency, customer, type, hours ago, steps)
# A step is (minutes after the previous step, action, user, *args).
SCENARIOS = [
    (
        FIRST_TITLE,
        "Payments API",
        "high",
        "high",
        "Northwind Traders",
        "incident",
        3,
        [
            (4, "take", "sam"),
            (3, "reply", "sam", "We see failures on card payments and are investigating now."),
            (
                10,
                "escalate",
                "sam",
                "Application Support",
                "502s from the gateway since 09:12, all merchants.",
            ),
            (5, "take", "tariq"),
            (2, "major", "max", "All merchants affected, revenue impact."),
            (6, "note", "tariq", "Gateway pods restarting in a loop; checking the certificate rotation."),
            (15, "time", "tariq", 25, "Gateway logs"),
        ],
    ),
    (
        "Payout file missing for three merchants",
        "Payouts",
        "medium",
        "high",
        "Contoso Retail",
        "incident",
        26,
        [
            (20, "take", "sara"),
            (5, "reply", "sara", "Thanks, we are checking the settlement run."),
            (40, "escalate", "sara", "Application Support", "Settlement job log shows a timeout at 02:10."),
            (30, "take", "tess"),
            (60, "hold", "tess", "awaiting_development"),
        ],
    ),
    (
        "Merchant portal shows yesterday's sales only",
        "Merchant Portal",
        "medium",
        "medium",
        "Fabrikam Foods",
        "incident",
        50,
        [
            (30, "take", "sam"),
            (10, "reply", "sam", "Could you tell us which store IDs are affected?"),
            (5, "hold", "sam", "awaiting_customer"),
        ],
    ),
    (
        "Refund API returns 500 for partial refunds",
        "Payments API",
        "high",
        "medium",
        "Tailspin Travel",
        "incident",
        8,
        [
            (12, "take", "sara"),
            (8, "escalate", "sara", "Application Support", "Only partial refunds fail; full refunds work."),
            (25, "escalate", "tariq", "Payments Dev", "Null currency on partial refunds; needs a code fix."),
        ],
    ),
    (
        "Audit data set for Q3 card transactions",
        "Reporting",
        "low",
        "medium",
        "Globex Energy",
        "service_request",
        30,
        [
            (60, "join", "tess"),
            (5, "join", "dora"),
            (10, "note", "dora", "Export query ready; running it against the replica."),
            (120, "time", "dora", 90, "Export and checks"),
        ],
    ),
    (
        "Password reset e-mails arrive after an hour",
        "Merchant Portal",
        "low",
        "high",
        "Northwind Traders",
        "incident",
        72,
        [
            (15, "take", "sam"),
            (5, "reply", "sam", "We have raised this with our mail provider."),
            (20, "hold", "sam", "awaiting_vendor"),
        ],
    ),
    (
        "Duplicate charge on a single order",
        "Payments API",
        "high",
        "low",
        "Contoso Retail",
        "incident",
        120,
        [
            (10, "take", "sara"),
            (30, "reply", "sara", "We have refunded the second charge; it shows in 3-5 days."),
            (
                10,
                "resolve",
                "sara",
                "fixed",
                "Refunded duplicate; idempotency key reused by the shop plugin.",
            ),
        ],
    ),
    (
        "Cannot add a second bank account",
        "Payouts",
        "low",
        "low",
        "Fabrikam Foods",
        "incident",
        200,
        [
            (60, "take", "sam"),
            (10, "reply", "sam", "This needs the account owner role; we have sent the steps."),
            (5, "resolve", "sam", "user_error", "Missing owner role; documented in KB-118."),
        ],
    ),
    (
        "Data correction: wrong VAT number on invoices",
        "Reporting",
        "medium",
        "low",
        "Tailspin Travel",
        "service_request",
        150,
        [
            (30, "join", "tariq"),
            (60, "time", "tariq", 30, "Corrected the VAT number"),
            (5, "resolve", "tariq", "fulfilled", "VAT number corrected on 14 invoices."),
        ],
    ),
    (
        "Checkout slow in the evening",
        "Payments API",
        "medium",
        "medium",
        "Globex Energy",
        "incident",
        280,
        [
            (30, "take", "sara"),
            (60, "escalate", "sara", "Application Support", "p95 above 4 s between 19:00 and 21:00."),
            (120, "take", "tess"),
            (240, "resolve", "tess", "workaround", "Scaled the gateway pool; capacity fix planned."),
            (600, "close", "tess"),
        ],
    ),
    (
        "Test incident logged by mistake",
        "Merchant Portal",
        "low",
        "low",
        None,
        "incident",
        40,
        [
            (3, "cancel", "sam", "Logged twice by mistake."),
        ],
    ),
    (
        "Settlement report totals off by one cent",
        "Reporting",
        "low",
        "low",
        "Northwind Traders",
        "incident",
        90,
        [
            (120, "join", "tess"),
            (30, "note", "tess", "Rounding happens per line instead of per total."),
        ],
    ),
    (
        "Payments declined for Amex cards",
        "Payments API",
        "high",
        "medium",
        "Contoso Retail",
        "incident",
        5,
        [
            (5, "take", "sam"),
        ],
    ),
    (
        "Merchant cannot download the monthly statement",
        "Merchant Portal",
        "medium",
        "high",
        "Tailspin Travel",
        "incident",
        1,
        [],
    ),
    (
        "Webhook retries flood the merchant endpoint",
        "Payments API",
        "medium",
        "medium",
        "Globex Energy",
        "incident",
        20,
        [
            (25, "take", "sara"),
            (15, "escalate", "sara", "Application Support", "Retries every second instead of backing off."),
        ],
    ),
    (
        "Payout delayed by a bank holiday",
        "Payouts",
        "low",
        "medium",
        "Fabrikam Foods",
        "incident",
        160,
        [
            (20, "take", "sam"),
            (10, "reply", "sam", "The payout runs on the next working day after the holiday."),
            (5, "resolve", "sam", "known_error", "Holiday calendar; KB-42."),
            (1500, "reopen", "sam"),
            (30, "resolve", "sam", "known_error", "Confirmed paid out this morning."),
        ],
    ),
    (
        "Request: new user for the finance team",
        "Merchant Portal",
        "low",
        "low",
        "Northwind Traders",
        "service_request",
        10,
        [
            (30, "take", "sara"),
            (5, "priority", "max", "P3", "Quarter-end close depends on it."),
        ],
    ),
    (
        "Portal login page blank in Safari",
        "Merchant Portal",
        "medium",
        "medium",
        "Contoso Retail",
        "incident",
        14,
        [
            (40, "take", "sam"),
            (
                10,
                "escalate",
                "sam",
                "Application Support",
                "Reproduced on Safari 17; console shows a CSP error.",
            ),
        ],
    ),
]

# Quieter incidents to fill the queue: (title, service, impact, urgency, hours ago)
FILLERS = [
    ("Slow search in transactions list", "Merchant Portal", "low", "medium", 36),
    # second: it goes to the second customer, Contoso Retail (search finds it by "contoso"
    # and by "safari loops")
    ("3-D Secure challenge loops on Safari", "Payments API", "medium", "high", 2),
    ("Currency shown as EUR for GBP merchant", "Merchant Portal", "medium", "low", 60),
    ("Payout e-mail has a broken link", "Payouts", "low", "low", 100),
    ("Refund reason missing in CSV export", "Reporting", "low", "medium", 18),
    ("API key rotation fails with 403", "Payments API", "medium", "medium", 6),
    ("Settlement summary shows negative fee", "Payouts", "medium", "medium", 44),
    ("Chargeback notice not delivered", "Payments API", "high", "low", 12),
    ("Export of disputes times out", "Reporting", "medium", "medium", 4),
    ("Merchant logo not shown on receipts", "Merchant Portal", "low", "low", 130),
    ("Apple Pay button missing on checkout", "Payments API", "medium", "high", 0.5),
    ("Request: audit trail of role changes", "Reporting", "low", "low", 70),
]


def _run(incident, step, at, ctx):
    action, user, *args = step
    u = ctx.users[user]
    if action == "take":
        return services.incident_take(incident=incident, actor=u, at=at)
    if action in ("reply", "note"):
        services.incident_comment(incident=incident, actor=u, body=args[0], public=action == "reply", at=at)
        return incident
    if action == "escalate":
        return services.incident_escalate(
            incident=incident, actor=u, team=ctx.teams[args[0]], note=args[1], at=at
        )
    if action == "hold":
        return services.incident_transition(
            incident=incident, actor=u, status="on_hold", reason=args[0], at=at
        )
    if action == "reopen":
        return services.incident_transition(incident=incident, actor=u, status="in_progress", at=at)
    if action == "resolve":
        return services.incident_transition(
            incident=incident, actor=u, status="resolved", resolution_code=args[0], note=args[1], at=at
        )
    if action == "close":
        return services.incident_transition(incident=incident, actor=u, status="closed", at=at)
    if action == "cancel":
        return services.incident_transition(
            incident=incident, actor=u, status="cancelled", reason=args[0], at=at
        )
    if action == "time":
        services.incident_log_time(incident=incident, actor=u, minutes=args[0], note=args[1], at=at)
        return incident
    if action == "major":
        return services.incident_declare_major(incident=incident, actor=u, note=args[0], at=at)
    if action == "join":
        return services.incident_swarm_join(incident=incident, actor=u, at=at)
    if action == "priority":
        return services.incident_set_priority(
            incident=incident, actor=u, priority=args[0], reason=args[1], at=at
        )
    raise ValueError(f"unknown demo step {action}")


def seed(ctx, log):
    if Incident.objects.filter(title=FIRST_TITLE).exists():
        log("incidents: demo incidents already there")
        return
    now = timezone.now()
    made = []
    reporters = ["sam", "sara"]
    for n, (title, service, impact, urgency, customer, kind, hours, steps) in enumerate(SCENARIOS):
        at = now - timedelta(hours=hours)
        incident = services.incident_create(
            actor=ctx.users[reporters[n % 2]],
            title=title,
            service=ctx.services[service],
            impact=impact,
            urgency=urgency,
            type=kind,
            customer=ctx.customers.get(customer) if customer else None,
            description=f"{title}. Reported by the customer's operations team.",
            at=at,
        )
        for minutes, *step in steps:
            at = min(at + timedelta(minutes=minutes), now)
            incident = _run(incident, tuple(step), at, ctx)
        made.append(incident)
    customers = list(ctx.customers.values())
    for n, (title, service, impact, urgency, hours) in enumerate(FILLERS):
        made.append(
            services.incident_create(
                actor=ctx.users[reporters[n % 2]],
                title=title,
                service=ctx.services[service],
                impact=impact,
                urgency=urgency,
                type="service_request" if title.startswith("Request") else "incident",
                customer=customers[n % len(customers)],
                description=f"{title}.",
                at=now - timedelta(hours=hours),
            )
        )
    # A second report of the outage, merged into the first.
    dup = services.incident_create(
        actor=ctx.users["sara"],
        title="Checkout broken for our shop",
        service=ctx.services["Payments API"],
        impact="high",
        urgency="high",
        customer=ctx.customers["Contoso Retail"],
        at=now - timedelta(hours=2, minutes=30),
    )
    services.incident_merge_duplicate(
        incident=dup, actor=ctx.users["sam"], parent=made[0], at=now - timedelta(hours=2)
    )
    log(f"incidents: {len(made) + 1} demo incidents with history")

"""Demo board: "Payments & Portal", shared by the two development teams, with eight weeks of
simulated flow (replenishment, pulls, reviews, blocks, expedited production defects, WIP
overrides) replayed through the real services with backdated instants, so that the flow
metrics tell a story. Idempotent: a board that already has its cards is left alone."""

import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from incidents.models import Incident
from tracker.exceptions import WipLimitExceeded

from . import services
from .models import Board, Card, CardType, ColumnCategory, LaneKind, ReasonKind

BOARD_NAME = "Payments & Portal"
# Eight weeks: the fix forecast learns from the last eight (FORECAST_HISTORY_WEEKS), and its
# backtest (manage.py forecast_backtest) needs cards committed after a steady flow began.
TARGET_CARDS = 95
DAYS = 56

BLOCK_REASONS = [
    ("waiting-on-vendor", "Waiting on vendor"),
    ("environment-down", "Environment down"),
    ("needs-decision", "Needs decision"),
    ("dependency", "Dependency on another team"),
]
WIP_REASONS = [
    ("production-incident", "Production incident"),
    ("regulatory-deadline", "Regulatory deadline"),
    ("customer-commitment", "Customer commitment"),
]

PAYMENTS_TITLES = [
    "Retry failed card captures with backoff",
    "SEPA instant credit transfer support",
    "Show settlement date on payout report",
    "Refund API: partial refunds",
    "3-D Secure 2 challenge flow timeout handling",
    "Reconcile chargebacks from acquirer file",
    "Idempotency keys on payment creation",
    "Currency rounding in multi-currency invoices",
    "Fraud rules: velocity check per card",
    "Migrate webhook signing to HMAC-SHA256",
    "PSD2 strong customer authentication exemptions",
    "Payout schedule per merchant",
    "Audit log export for payments",
    "Apple Pay merchant validation renewal",
    "Decline code mapping for new acquirer",
    "Dispute evidence upload",
    "Ledger double-entry consistency check",
    "Faster payment status polling",
    "Merchant onboarding KYC document checks",
    "BACS direct debit mandate cancellation",
    "Payment links with expiry",
    "Surcharge rules per card scheme",
    "Tokenised card-on-file for subscriptions",
    "Monthly fee invoice run",
]
PORTAL_TITLES = [
    "Customer portal: download invoices as PDF",
    "Single sign-on with Azure AD",
    "Self-service password reset",
    "Accessible date picker on booking form",
    "Dashboard: recent transactions widget",
    "Localise portal into German",
    "Session timeout warning dialog",
    "User management: invite colleagues",
    "Dark mode for the portal",
    "Notification preferences page",
    "Search across tickets and invoices",
    "Export account statement to CSV",
    "Two-factor authentication enrolment",
    "Improve portal page load (LCP)",
    "Contact form spam protection",
    "Onboarding checklist for new customers",
    "Upgrade front-end build tooling",
    "Cookie consent per EU guidance",
    "Portal audit trail of user actions",
    "Bulk invoice download as ZIP",
    "Keyboard shortcuts for power users",
    "Mobile layout for statements",
    "Customer satisfaction survey after ticket close",
    "Show SLA target on customer tickets",
]
DEFECT_TITLES = [
    "Payout report totals off by one cent",
    "Portal login loops on Safari",
    "Duplicate confirmation emails",
    "Invoice PDF missing VAT number",
    "Timeout on large statement export",
    "Wrong currency symbol for CHF",
]
PROD_DEFECT_TITLES = [
    "Card payments failing for Maestro cards",
    "Portal 500 on invoice list for large accounts",
    "Webhook deliveries stuck in retry",
    "Refunds not reaching acquirer",
    "Payout file rejected by bank (bad BIC)",
    "Portal session expires every minute",
    "3-D Secure redirect loops on iOS",
    "Settlement report missing yesterday's batch",
    "Invoice e-mails sent twice to some customers",
    "Chargeback import stops on malformed line",
    "Password reset links expired on arrival",
    "Duplicate refunds after acquirer timeout",
]


def _at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


def _board(ctx, log):
    board = Board.objects.filter(name=BOARD_NAME).first()
    if board:
        return board, False
    teams = [t for t in (ctx.teams.get("Payments Dev"), ctx.teams.get("Portal Dev")) if t]
    board = services.board_create(
        name=BOARD_NAME,
        teams=teams,
        actor=ctx.users.get("paula"),
        columns=[
            {"name": "Backlog", "category": ColumnCategory.BACKLOG},
            {"name": "Ready", "category": ColumnCategory.READY, "wip_max": 8},
            {"name": "In progress", "category": ColumnCategory.IN_PROGRESS, "wip_min": 2, "wip_max": 4},
            {"name": "Review", "category": ColumnCategory.IN_PROGRESS, "wip_max": 3},
            {"name": "Done", "category": ColumnCategory.DONE},
        ],
        lanes=[
            {"name": "Expedite", "kind": LaneKind.EXPEDITE},
            {"name": "Payments", "kind": LaneKind.STANDARD},
            {"name": "Portal", "kind": LaneKind.STANDARD},
        ],
    )
    log(f"board {BOARD_NAME}")
    return board, True


class _Simulation:
    """Replays eight weeks of work day by day through the services (all instants backdated)."""

    def __init__(self, board, ctx, reasons):
        self.board = board
        self.rng = random.Random(20261122)  # noqa: S311 - demo data, not security
        self.users = ctx.users
        self.po = ctx.users.get("paula")
        self.devs = [ctx.users[u] for u in ("dev", "dana", "diego", "dora") if u in ctx.users]
        cols = {c.name: c for c in board.columns.all()}
        self.backlog, self.ready, self.doing, self.review, self.done = (
            cols["Backlog"], cols["Ready"], cols["In progress"], cols["Review"], cols["Done"]
        )  # fmt: skip
        lanes = {ln.name: ln for ln in board.lanes.all()}
        self.lane_payments, self.lane_portal = lanes["Payments"], lanes["Portal"]
        self.block_reasons = [r for r in reasons if r.kind == ReasonKind.BLOCK]
        self.wip_reasons = {r.code: r for r in reasons if r.kind == ReasonKind.WIP_OVERRIDE}
        self.titles = {"payments": list(PAYMENTS_TITLES), "portal": list(PORTAL_TITLES)}
        self.defects, self.prod_defects = list(DEFECT_TITLES), list(PROD_DEFECT_TITLES)
        self.work_days = {}
        self.review_since = {}
        self.unblock_on = {}
        self.ready_since = {}
        self.created = 0

    def cards(self, column):
        return list(Card.objects.filter(board=self.board, column=column).order_by("lane__position", "rank"))

    def new_card(self, at):
        product = self.rng.choice(["payments", "portal"])
        lane = self.lane_payments if product == "payments" else self.lane_portal
        roll = self.rng.random()
        if roll < 0.15 and self.defects:
            title, kind = self.defects.pop(0), CardType.DEFECT
        elif roll < 0.25:
            title, kind = (
                f"Tech debt: {self.rng.choice(['upgrade Django', 'flaky test', 'log noise'])}",
                (CardType.ENGINEERING_TASK),
            )
        elif self.titles[product]:
            title = self.titles[product].pop(0)
            kind = CardType.ENHANCEMENT if self.rng.random() < 0.35 else CardType.STORY
        else:
            title, kind = f"{product.title()} follow-up {self.created}", CardType.STORY
        card = services.card_create(
            board=self.board,
            title=title,
            type=kind,
            lane=lane,
            estimate=self.rng.choice([1, 2, 3, 3, 5, 5, 8]),
            actor=self.po,
            at=at,
        )
        self.created += 1
        return card

    def production_defect(self, at):
        card = services.card_create(
            board=self.board,
            title=self.prod_defects.pop(0),
            type=CardType.PRODUCTION_DEFECT,
            estimate=3,
            actor=self.users.get("tariq") or self.po,
            at=at,
        )
        self.created += 1
        return card

    def replenish(self, at):
        """The product owner tops Ready up to six cards from the backlog, oldest request
        first whatever its product, so neither lane starves."""
        ready = len(self.cards(self.ready))
        backlog = Card.objects.filter(board=self.board, column=self.backlog).order_by("created_at", "id")
        for card in list(backlog[: max(0, 6 - ready)]):
            try:
                services.card_move(card=card, column=self.ready, actor=self.po, at=at)
            except WipLimitExceeded:
                break
            self.ready_since[card.pk] = at

    def pull_expedite(self, at):
        in_flight = Card.objects.filter(board=self.board, column__in=[self.doing, self.review])
        for card in [c for c in self.cards(self.ready) if c.type == CardType.PRODUCTION_DEFECT]:
            # expedite: the least loaded developer drops what they do, over the WIP limit if need be
            dev = min(self.devs, key=lambda d: (in_flight.filter(assignee=d).count(), self.rng.random()))
            services.card_pull(
                card=card, actor=dev, override_reason=self.wip_reasons.get("production-incident"), at=at
            )
            self.work_days[card.pk] = 1

    def pull(self, at):
        in_flight = Card.objects.filter(board=self.board, column__in=[self.doing, self.review])
        for dev in self.rng.sample(self.devs, len(self.devs)):
            if in_flight.filter(assignee=dev).count() >= 2:
                continue
            # the card that has waited longest in Ready, whichever lane: first in, first out
            candidates = [c for c in self.cards(self.ready) if not c.blocked]
            if not candidates:
                return
            card = min(candidates, key=lambda c: (self.ready_since.get(c.pk, c.created_at), c.pk))
            override = None
            if card.type == CardType.PRODUCTION_DEFECT:
                override = self.wip_reasons.get("production-incident")
            try:
                services.card_pull(card=card, actor=dev, override_reason=override, at=at)
            except WipLimitExceeded:
                return
            self.work_days[card.pk] = self.rng.choice([1, 1, 2, 2, 3, 4])

    def progress(self, day, at_review, at_done):
        for card in self.cards(self.review):
            if card.blocked:
                continue
            if day > self.review_since.get(card.pk, day - timedelta(days=1)) and self.rng.random() < 0.85:
                services.card_move(card=card, column=self.done, actor=card.assignee, at=at_done)
        for card in self.cards(self.doing):
            if card.blocked:
                continue
            if (day - timezone.localtime(card.started_at).date()).days >= self.work_days.get(card.pk, 2):
                try:
                    services.card_move(card=card, column=self.review, actor=card.assignee, at=at_review)
                except WipLimitExceeded:
                    continue
                self.review_since[card.pk] = day

    def blocks(self, day, at):
        for card_id, until in list(self.unblock_on.items()):
            if day >= until:
                card = Card.objects.get(pk=card_id)
                services.card_unblock(card=card, actor=card.assignee, at=at)
                del self.unblock_on[card_id]
        for card in self.cards(self.doing):
            if not card.blocked and self.rng.random() < 0.06:
                weights = [4, 2, 2, 1]
                reason = self.rng.choices(self.block_reasons, weights=weights[: len(self.block_reasons)])[0]
                services.card_block(card=card, reason=reason, note="", actor=card.assignee, at=at)
                # vendors are slow; decisions are quicker
                self.unblock_on[card.pk] = day + timedelta(days=self.rng.choice([1, 2, 3, 4, 6]))

    def run(self, log):
        today = timezone.localdate()
        start = today - timedelta(days=DAYS)
        for _ in range(14):
            self.new_card(_at(start, 8, 30))
        day = start
        while day <= today:
            if day.weekday() < 5:
                if self.created < TARGET_CARDS:
                    for i in range(self.rng.choice([1, 1, 2, 2, 2, 3])):
                        if self.created < TARGET_CARDS - 1:
                            self.new_card(_at(day, 9, i * 5))
                if self.prod_defects and day.toordinal() % 5 == 0 and day < today:
                    self.production_defect(_at(day, 9, 40))
                self.pull_expedite(_at(day, 9, 41))
                if day < today:
                    self.progress(day, _at(day, 9, 45), _at(day, 9, 50))
                self.replenish(_at(day, 9, 50))
                self.blocks(day, _at(day, 10, 15))
                self.pull(_at(day, 10, 30))
            day += timedelta(days=1)
        while self.created < TARGET_CARDS - 1:
            self.new_card(_at(today, 8, 0))
        # this morning's escalation: waits at the top of Ready in the expedite lane
        self.prod_defects.append("Payouts delayed for Dutch merchants")
        self.production_defect(timezone.now() - timedelta(hours=2))
        log(f"{self.created} cards with {DAYS} days of history")


def _leave_open_blocks(board, reasons, now):
    """Make sure the board shows a couple of blocked cards with their age right now."""
    block_reasons = {r.code: r for r in reasons if r.kind == ReasonKind.BLOCK}
    blocked = Card.objects.filter(board=board, blocked=True).count()
    doing = Card.objects.filter(board=board, column__category=ColumnCategory.IN_PROGRESS, blocked=False)
    plan = [("waiting-on-vendor", 53), ("needs-decision", 7)]
    for card, (code, hours) in zip(doing[: max(0, 2 - blocked)], plan, strict=False):
        services.card_block(
            card=card,
            reason=block_reasons[code],
            note="Ticket raised with the acquirer" if code == "waiting-on-vendor" else "Awaiting PO call",
            actor=card.assignee,
            at=now - timedelta(hours=hours),
        )


def _releases(board, log):
    today = timezone.localdate()
    first = board.releases.filter(name="2026.11").first() or services.release_create(
        board=board, name="2026.11", planned_for=today - timedelta(days=14), actor=None
    )
    board.releases.filter(name="2026.12").first() or services.release_create(
        board=board, name="2026.12", planned_for=today + timedelta(days=14), actor=None
    )
    if first.deployed_at is None:
        cutoff = timezone.now() - timedelta(days=14)
        for card in Card.objects.filter(board=board, done_at__lt=cutoff, release__isnull=True):
            services.card_update(card=card, actor=None, release=first)
        services.release_mark_deployed(release=first, actor=None, at=cutoff + timedelta(hours=2))
    log("releases 2026.11 (deployed) and 2026.12")


def _link_incidents(board, ctx):
    open_incidents = list(
        Incident.objects.exclude(status__in=["resolved", "closed", "cancelled"]).order_by("-id")[:2]
    )
    cards = Card.objects.filter(board=board, type=CardType.PRODUCTION_DEFECT, done_at__isnull=True).order_by(
        "id"
    )
    for card, incident in zip(cards, open_incidents, strict=False):
        services.card_link_incident(card=card, incident=incident, actor=ctx.users.get("tariq"))


def seed(ctx, log):
    reasons = [
        services.reason_code_ensure(kind=ReasonKind.BLOCK, code=c, label=lbl) for c, lbl in BLOCK_REASONS
    ]
    reasons += [
        services.reason_code_ensure(kind=ReasonKind.WIP_OVERRIDE, code=c, label=lbl) for c, lbl in WIP_REASONS
    ]
    board, _created = _board(ctx, log)
    ctx.extra["board"] = board
    if board.cards.count() >= 60:
        log(f"board {BOARD_NAME} already has its cards")
        return
    _Simulation(board, ctx, reasons).run(log)
    _leave_open_blocks(board, reasons, timezone.now())
    _releases(board, log)
    _link_incidents(board, ctx)

"""Demo sprints for Payments Dev: three closed sprints and an active one whose history tells
the story of a team losing about a third of its capacity to production support.

Cards are created with boards.services.card_create and moved with card_move, and every
sprint change goes through the sprint services, so the board history, the scope log and
the charts agree. Idempotent: nothing is added when the team's first demo sprint exists.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from boards.models import Board, CardType, ColumnCategory, LaneKind, ReasonCode, ReasonKind
from boards.services import board_create, card_create, card_move
from org.models import TeamSupportModel
from tracker.exceptions import WipLimitExceeded

from . import services
from .models import Sprint, WorkSource

BOARD_NAME = "Payments & Portal"
PREFIX = "PAY Sprint"

# Per sprint: planned cards (title, estimate, finished?), unplanned (title, estimate,
# source, day added, finished?), days off per member (username: days).
HISTORY = [
    {
        "goal": "Instant refunds for card payments",
        "planned": [
            ("Refund API endpoint", 5, True),
            ("Refund ledger entries", 3, True),
            ("Partial refunds", 5, True),
            ("Refund webhooks for merchants", 3, False),
            ("Refund reporting export", 4, False),
        ],
        "unplanned": [
            ("Duplicate captures on retry (INC)", 3, WorkSource.ESCALATION, 2, True),
            ("Payout file rejected by bank (INC)", 2, WorkSource.ESCALATION, 6, True),
            ("Emergency TLS certificate rotation", 2, WorkSource.EMERGENCY_CHANGE, 8, True),
        ],
        "days_off": {},
    },
    {
        "goal": "Refunds in the merchant portal",
        "planned": [
            ("Refund webhooks for merchants", 3, True),
            ("Refund button in the portal", 5, True),
            ("Refund reporting export", 4, False),
            ("Refund limits per merchant", 4, False),
        ],
        "unplanned": [
            ("Timeouts on 3-D Secure callback (INC)", 3, WorkSource.ESCALATION, 1, True),
            ("Settlement totals off by one cent (INC)", 2, WorkSource.ESCALATION, 4, True),
            ("Merchant data correction script", 1, WorkSource.OTHER, 7, True),
        ],
        "days_off": {"diego": 2},
    },
    {
        "goal": "Payout scheduling",
        "planned": [
            ("Refund limits per merchant", 4, True),
            ("Payout schedule model", 3, True),
            ("Weekly payout option", 3, True),
            ("Payout schedule in the portal", 5, False),
        ],
        "unplanned": [
            ("Payout run skipped on bank holiday (INC)", 3, WorkSource.ESCALATION, 2, True),
            ("Card BIN table update (emergency change)", 2, WorkSource.EMERGENCY_CHANGE, 5, True),
            ("Chargeback status not updating (INC)", 1, WorkSource.ESCALATION, 8, True),
        ],
        "days_off": {},
    },
]
CURRENT = {
    "goal": "Payout schedules live for all merchants",
    "planned": [
        ("Payout schedule in the portal", 5, "in_progress"),
        ("Monthly payout option", 3, "done"),
        ("Payout preview e-mail", 3, "done"),
        ("Payout schedule API for partners", 3, "ready"),
        ("Payout holiday calendar admin", 2, "ready"),
    ],
    "unplanned": [
        ("Double payouts for split merchants (INC, P1)", 5, WorkSource.ESCALATION, 1, "in_progress"),
        ("Refund webhook signature mismatch (INC, P2)", 3, WorkSource.ESCALATION, 3, "ready"),
    ],
    "days_off": {"dana": 1},
}
BACKLOG = [
    ("Multi-currency payouts", 8),
    ("Payout retry on bank rejection", 5),
    ("Merchant payout statements (PDF)", 3),
    ("Reconciliation report for finance", 5),
    ("Remove legacy payout cron", 2),
]


def _at(day, hour=10):
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _board(ctx, team, actor):
    board = ctx.extra.get("board") or Board.objects.filter(name=BOARD_NAME).first()
    if board is None:
        board = board_create(
            name=BOARD_NAME,
            actor=actor,
            teams=[team],
            key_prefix="PAY",
            columns=[
                {"name": "Backlog", "category": ColumnCategory.BACKLOG},
                {"name": "Ready", "category": ColumnCategory.READY},
                {"name": "In progress", "category": ColumnCategory.IN_PROGRESS, "wip_max": 6},
                {"name": "Done", "category": ColumnCategory.DONE},
            ],
            lanes=[
                {"name": "Expedite", "kind": LaneKind.EXPEDITE},
                {"name": "Product", "kind": LaneKind.STANDARD},
            ],
        )
        ctx.extra["board"] = board
    elif not board.teams.filter(pk=team.pk).exists():
        board.teams.add(team)
    return board


def _column(board, category):
    return board.columns.filter(category=category).order_by("position").first()


def _move(card, board, category, actor, at, override=None):
    try:
        return card_move(
            card=card, column=_column(board, category), actor=actor, at=at, override_reason=override
        )
    except WipLimitExceeded:
        return card  # the shared board's own demo flow may have filled the column: skip the step


def _finish(card, board, actor, started, finished):
    _move(card, board, ColumnCategory.IN_PROGRESS, actor, started)
    _move(card, board, ColumnCategory.DONE, actor, finished)


def seed(ctx, log):
    team = ctx.teams.get("Payments Dev")
    if team is None:
        return
    if Sprint.objects.filter(team=team, name=f"{PREFIX} 1").exists():
        log("sprints already seeded")
        return
    po = ctx.users["paula"]
    support = ctx.users.get("tariq", po)
    devs = [ctx.users[u] for u in ("dana", "dev", "diego")]
    if team.support_model != TeamSupportModel.ROTATION:
        services.team_settings_update(team=team, actor=po, support_model=TeamSupportModel.ROTATION)
    board = _board(ctx, team, po)

    today = timezone.localdate()
    # The active sprint started on the Monday on or before five days ago: today is in its
    # second week, with work done, support work added and the rest still to come.
    five_ago = today - timedelta(days=5)
    current_start = five_ago - timedelta(days=five_ago.weekday())
    starts = [current_start - timedelta(days=14 * n) for n in (3, 2, 1)]
    carried = {}  # title -> card carried over from the previous sprint

    def make_card(title, estimate, at, type=CardType.STORY):
        card = carried.pop(title, None)
        if card is not None:
            return card
        return card_create(
            board=board,
            title=title,
            actor=po,
            type=type,
            estimate=Decimal(estimate),
            column=_column(board, ColumnCategory.BACKLOG),
            at=at,
        )

    sprints = []
    for number, (start, spec) in enumerate(zip(starts, HISTORY, strict=True), start=1):
        sprint = services.sprint_create(
            team=team, name=f"{PREFIX} {number}", goal=spec["goal"], start=start, board=board, actor=po
        )
        for member in sprint.members.select_related("user"):
            if member.user.username in spec["days_off"]:
                services.sprint_member_update(
                    member=member, actor=po, days_off=spec["days_off"][member.user.username]
                )
        planned = []
        for title, estimate, _finished in spec["planned"]:
            card = make_card(title, estimate, _at(start - timedelta(days=3)))
            services.card_sprint_set(card=card, sprint=sprint, actor=po, at=_at(start - timedelta(days=1)))
            planned.append(card)
        services.cards_rerank(cards=planned, actor=po)
        services.sprint_start(sprint=sprint, actor=po, at=_at(start, 9), confirm=True)
        for i, ((_title, _e, finished), card) in enumerate(zip(spec["planned"], planned, strict=True)):
            if finished:
                dev = devs[i % len(devs)]
                _finish(
                    card, board, dev, _at(start + timedelta(days=i)), _at(start + timedelta(days=i + 3), 15)
                )
        for j, (title, estimate, source, day, finished) in enumerate(spec["unplanned"]):
            added = _at(start + timedelta(days=day), 11)
            card = card_create(
                board=board,
                title=title,
                actor=support,
                type=CardType.PRODUCTION_DEFECT if source == WorkSource.ESCALATION else CardType.CHANGE,
                estimate=Decimal(estimate),
                at=added,
            )
            services.card_sprint_set(
                card=card, sprint=sprint, actor=support, source=source, at=added, reason=f"{title}: unplanned"
            )
            if finished:
                _finish(
                    card, board, devs[j % len(devs)], added + timedelta(hours=1), added + timedelta(days=1)
                )
        for title, _e, finished in spec["planned"]:
            if not finished:
                carried[title] = next(
                    c for c, (t, _x, _f) in zip(planned, spec["planned"], strict=True) if t == title
                )
        sprints.append(sprint)
        # Closed on the last Friday: unfinished cards go back to the backlog and are
        # planned again into the next sprint.
        services.sprint_close(sprint=sprint, actor=po, at=_at(start + timedelta(days=11), 17), confirm=True)

    # The active sprint.
    current = services.sprint_create(
        team=team,
        name=f"{PREFIX} {len(HISTORY) + 1}",
        goal=CURRENT["goal"],
        start=current_start,
        board=board,
        actor=po,
    )
    for member in current.members.select_related("user"):
        if member.user.username in CURRENT["days_off"]:
            services.sprint_member_update(
                member=member, actor=po, days_off=CURRENT["days_off"][member.user.username]
            )
    planned = []
    for title, estimate, _state in CURRENT["planned"]:
        card = make_card(title, estimate, _at(current_start - timedelta(days=3)))
        services.card_sprint_set(
            card=card, sprint=current, actor=po, at=_at(current_start - timedelta(days=1))
        )
        planned.append(card)
    services.cards_rerank(cards=planned, actor=po)
    services.sprint_start(sprint=current, actor=po, at=_at(current_start, 9), confirm=True)
    now = timezone.now()

    def when(days, hour=11):
        return min(_at(current_start + timedelta(days=days), hour), now - timedelta(minutes=5))

    for i, ((_t, _e, state), card) in enumerate(zip(CURRENT["planned"], planned, strict=True)):
        dev = devs[i % len(devs)]
        if state in ("in_progress", "done"):
            _move(card, board, ColumnCategory.IN_PROGRESS, dev, when(i))
        if state == "done":
            _move(card, board, ColumnCategory.DONE, dev, when(i, 16))
    for j, (title, estimate, source, day, state) in enumerate(CURRENT["unplanned"]):
        added = when(day)
        card = card_create(
            board=board,
            title=title,
            actor=support,
            type=CardType.PRODUCTION_DEFECT,
            estimate=Decimal(estimate),
            at=added,
        )
        services.card_sprint_set(
            card=card, sprint=current, actor=support, source=source, at=added, reason=title
        )
        if state == "in_progress":
            override = ReasonCode.objects.filter(
                kind=ReasonKind.WIP_OVERRIDE, code="production-incident"
            ).first()
            _move(
                card,
                board,
                ColumnCategory.IN_PROGRESS,
                devs[j % len(devs)],
                added + timedelta(minutes=2),
                override,
            )

    # The next sprint, in planning, and a ranked backlog for the product owner.
    services.sprint_create(
        team=team,
        name=f"{PREFIX} {len(HISTORY) + 2}",
        goal="Multi-currency payouts",
        start=current_start + timedelta(days=14),
        board=board,
        actor=po,
    )
    backlog = [
        card_create(board=board, title=title, actor=po, estimate=Decimal(est), at=_at(current_start))
        for title, est in BACKLOG
    ]
    backlog += list(carried.values())
    services.cards_rank_top(cards=backlog, actor=po)
    log(f"{len(HISTORY) + 2} sprints for {team.name} (3 closed, 1 active, 1 in planning)")

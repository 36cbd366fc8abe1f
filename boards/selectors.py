"""Reads for boards: a fixed number of queries whatever the number of cards."""

from collections import defaultdict
from datetime import timedelta

from django.db import connection
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.utils import timezone

from sla.models import SLATimer, TimerMetric, TimerState

from . import hooks
from .models import (
    Board,
    Card,
    CardIncident,
    CardMove,
    Column,
    ColumnCategory,
    Lane,
    ReasonCode,
    ReasonKind,
    Release,
)

CARD_VALUES = (
    "id",
    "key",
    "board_id",
    "title",
    "description",
    "type",
    "class_of_service",
    "estimate",
    "assignee_id",
    "column_id",
    "lane_id",
    "rank",
    "sprint_id",
    "release_id",
    "due_date",
    "blocked",
    "block_reason_id",
    "block_note",
    "blocked_since",
    "started_at",
    "done_at",
    "created_at",
)


def sla_due_subquery():
    """The earliest due instant of the resolution timers still counting (running, or
    breached but not yet resolved) of the incidents linked to the card — one correlated
    subquery, never a query per card."""
    return Subquery(
        SLATimer.objects.filter(
            incident__card_links__card=OuterRef("pk"),
            metric=TimerMetric.RESOLUTION,
            # A breached clock still runs until the incident is resolved: the card shows it overdue.
            state__in=[TimerState.RUNNING, TimerState.PAUSED, TimerState.BREACHED],
            is_active=True,
            due_at__isnull=False,
        )
        .order_by("due_at")
        .values("due_at")[:1]
    )


def cards_with_sla(qs=None):
    qs = Card.objects.all() if qs is None else qs
    return qs.annotate(sla_due_at=sla_due_subquery())


def incident_ids_by_card(card_ids) -> dict[int, list[int]]:
    links = defaultdict(list)
    if card_ids:
        rows = CardIncident.objects.filter(card_id__in=card_ids).order_by("incident_id")
        for card_id, incident_id in rows.values_list("card_id", "incident_id"):
            links[card_id].append(incident_id)
    return links


def card_api_rows(qs) -> list[dict]:
    """Cards in the API's shape from plain values(): two queries for any number of cards."""
    rows = list(cards_with_sla(qs).values(*CARD_VALUES, "sla_due_at"))
    links = incident_ids_by_card([r["id"] for r in rows])
    return [card_api_row(r, links.get(r["id"], [])) for r in rows]


def card_api_row(r, incident_ids) -> dict:
    return {
        "id": r["id"],
        "key": r["key"],
        "board": r["board_id"],
        "title": r["title"],
        "description": r["description"],
        "type": r["type"],
        "class_of_service": r["class_of_service"],
        "estimate": float(r["estimate"]) if r["estimate"] is not None else None,
        "assignee": r["assignee_id"],
        "column": r["column_id"],
        "lane": r["lane_id"],
        "rank": r["rank"],
        "sprint": r["sprint_id"],
        "release": r["release_id"],
        "due_date": r["due_date"],
        "blocked": r["blocked"],
        "block_reason": r["block_reason_id"],
        "block_note": r["block_note"],
        "blocked_since": r["blocked_since"],
        "started_at": r["started_at"],
        "done_at": r["done_at"],
        "created_at": r["created_at"],
        "incidents": incident_ids,
        "sla_due_at": r["sla_due_at"],
    }


def board_list():
    return Board.objects.prefetch_related("teams").annotate(
        card_count=Count("cards", filter=Q(cards__cancelled_at__isnull=True), distinct=True)
    )


def board_columns(board=None) -> list[dict]:
    """Columns with their card count and WIP flags (count over max / under min); of every
    board, in board order, when no board is given."""
    qs = Column.objects.all() if board is None else Column.objects.filter(board=board)
    columns = list(
        qs.annotate(count=Count("cards", filter=Q(cards__cancelled_at__isnull=True)))
        .order_by("board_id", "position", "id")
        .values("id", "board_id", "name", "category", "position", "wip_min", "wip_max", "count")
    )
    for col in columns:
        col["over"] = col["wip_max"] is not None and col["count"] > col["wip_max"]
        col["at_limit"] = col["wip_max"] is not None and col["count"] == col["wip_max"]
        col["under"] = col["wip_min"] is not None and col["count"] < col["wip_min"]
    return columns


def board_lanes(board=None) -> list[dict]:
    """Lanes with their cards in progress and their WIP flag (a lane's limit counts those);
    of every board when no board is given."""
    in_progress = Q(cards__cancelled_at__isnull=True, cards__column__category=ColumnCategory.IN_PROGRESS)
    qs = Lane.objects.all() if board is None else Lane.objects.filter(board=board)
    lanes = list(
        qs.annotate(in_progress=Count("cards", filter=in_progress))
        .order_by("board_id", "position", "id")
        .values("id", "board_id", "name", "kind", "position", "wip_max", "in_progress")
    )
    for lane in lanes:
        lane["over"] = lane["wip_max"] is not None and lane["in_progress"] > lane["wip_max"]
        lane["at_limit"] = lane["wip_max"] is not None and lane["in_progress"] == lane["wip_max"]
    return lanes


def _board_cards_qs(board):
    return Card.objects.filter(board=board, cancelled_at__isnull=True).order_by("rank", "id")


# API name -> column of the values() subquery (see CARD_VALUES)
_JSON_FIELDS = {
    "id": "id", "key": "key", "board": "board_id", "title": "title", "description": "description",
    "type": "type", "class_of_service": "class_of_service", "estimate": "estimate",
    "assignee": "assignee_id", "column": "column_id", "lane": "lane_id", "rank": "rank",
    "sprint": "sprint_id", "release": "release_id", "due_date": "due_date", "blocked": "blocked",
    "block_reason": "block_reason_id", "block_note": "block_note", "blocked_since": "blocked_since",
    "started_at": "started_at", "done_at": "done_at", "created_at": "created_at",
}  # fmt: skip


# The board endpoint carries the contract's card fields (plus what the board shows:
# blocked_since, due_date) but not the long text and timestamps: at 5,000 cards those
# would double its cost. The card endpoints carry everything.
BOARD_CARD_FIELDS = (
    "id", "key", "board", "title", "type", "class_of_service", "estimate", "assignee", "column", "lane",
    "rank", "sprint", "release", "due_date", "blocked", "block_reason", "blocked_since",
)  # fmt: skip


def card_api_json(qs, fields=tuple(_JSON_FIELDS)) -> str:
    """The same rows as card_api_rows, serialized by PostgreSQL itself into one JSON array.

    At thousands of cards, turning rows into Python objects and back into JSON is what
    costs; letting the database build the text keeps the board endpoint fast."""
    inner = cards_with_sla(qs).order_by().values(*CARD_VALUES, "sla_due_at")
    sql, params = inner.query.sql_with_params()
    pairs = ", ".join(f"'{name}', t.{_JSON_FIELDS[name]}" for name in fields)
    link_table = CardIncident._meta.db_table
    # Incident ids come from one grouped join over the card set, not a subquery per card.
    # Only code constants and Django-compiled SQL are interpolated; values travel as params.
    wrapped = (
        f"WITH t AS ({sql}), "  # noqa: S608
        f"l AS (SELECT ci.card_id, array_agg(ci.incident_id ORDER BY ci.incident_id) AS ids "
        f"FROM {link_table} ci JOIN t ON t.id = ci.card_id GROUP BY ci.card_id) "
        f"SELECT coalesce(json_agg(json_build_object({pairs}, "
        f"'incidents', coalesce(l.ids, '{{}}'::integer[]), 'sla_due_at', t.sla_due_at) "
        f"ORDER BY t.rank, t.id), '[]')::text FROM t LEFT JOIN l ON l.card_id = t.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(wrapped, params)
        return cursor.fetchone()[0]


def board_api(board, *, cards_json=False) -> dict:
    """The board endpoint's payload: a fixed number of queries for any number of cards.

    With cards_json on PostgreSQL, "cards" holds the cards as ready JSON text (see
    card_api_json); the caller splices it into the response."""
    columns = board_columns(board)
    if cards_json and connection.vendor == "postgresql":
        cards = card_api_json(_board_cards_qs(board), BOARD_CARD_FIELDS)
    else:
        keep = (*BOARD_CARD_FIELDS, "incidents", "sla_due_at")
        cards = [{k: row[k] for k in keep} for row in card_api_rows(_board_cards_qs(board))]
    return {
        "id": board.pk,
        "name": board.name,
        "key_prefix": board.key_prefix,
        "teams": [t.pk for t in board.teams.all()],
        "columns": [
            {k: c[k] for k in ("id", "name", "category", "wip_min", "wip_max", "count")} for c in columns
        ],
        "lanes": [
            {k: ln[k] for k in ("id", "name", "kind", "wip_max", "in_progress")} for ln in board_lanes(board)
        ],
        "cards": cards,
    }


BOARD_FILTERS = ("sprint", "release", "assignee", "type", "blocked")


def board_card_filter(qs, filters):
    """Quick filters of the board page (values come from the query string, already cleaned)."""
    if filters.get("sprint"):
        qs = (
            qs.filter(sprint__isnull=True)
            if filters["sprint"] == "none"
            else qs.filter(sprint_id=filters["sprint"])
        )
    if filters.get("release"):
        qs = (
            qs.filter(release__isnull=True)
            if filters["release"] == "none"
            else qs.filter(release_id=filters["release"])
        )
    if filters.get("assignee"):
        qs = (
            qs.filter(assignee__isnull=True)
            if filters["assignee"] == "none"
            else qs.filter(assignee_id=filters["assignee"])
        )
    if filters.get("type"):
        qs = qs.filter(type=filters["type"])
    if filters.get("blocked") in ("yes", "no"):
        qs = qs.filter(blocked=filters["blocked"] == "yes")
    return qs


DONE_SHOWN_DAYS = 14


def board_page_cards(board, filters, now=None) -> list[dict]:
    """The cards shown on the board page, as plain dicts with the assignee's name.

    Done columns show what finished in the last two weeks; older work is in the metrics
    and the releases, and would only make the board long."""
    recent = (now or timezone.now()) - timedelta(days=DONE_SHOWN_DAYS)
    qs = Card.objects.filter(board=board, cancelled_at__isnull=True).exclude(
        column__category=ColumnCategory.DONE, done_at__lt=recent
    )
    qs = board_card_filter(qs, filters)
    return list(
        cards_with_sla(qs)
        .order_by("rank", "id")
        .values(
            "id",
            "key",
            "title",
            "type",
            "class_of_service",
            "estimate",
            "column_id",
            "lane_id",
            "blocked",
            "blocked_since",
            "block_reason__label",
            "assignee_id",
            "assignee__first_name",
            "assignee__last_name",
            "assignee__username",
            "due_date",
            "sla_due_at",
        )
    )


def board_version(board) -> str:
    """A cheap fingerprint of everything the board page shows; changes when any card does."""
    agg = Card.objects.filter(board=board).aggregate(n=Count("id"), last=Max("updated_at"))
    last = agg["last"].timestamp() if agg["last"] else 0
    return f"{agg['n']}-{last:.6f}"


def active_sprint_support_member(board):
    return hooks.sprint_planning().active_sprint(board=board)


def reason_codes(kind=None):
    qs = ReasonCode.objects.filter(active=True)
    return qs.filter(kind=kind) if kind else qs


def wip_override_reasons():
    return reason_codes(ReasonKind.WIP_OVERRIDE)


def block_reasons():
    return reason_codes(ReasonKind.BLOCK)


def releases_for(board):
    return Release.objects.filter(board=board)


def card_history(card) -> list[dict]:
    """Moves and blocks of one card, merged and ordered by time (three queries)."""
    events = []
    moves = CardMove.objects.filter(card=card).select_related(
        "actor", "from_column", "to_column", "from_lane", "to_lane", "override_reason"
    )
    for m in moves:
        events.append({"at": m.at, "kind": "move", "move": m})
    for p in card.block_periods.select_related("reason", "started_by"):
        events.append({"at": p.started_at, "kind": "block", "period": p})
        if p.ended_at:
            events.append({"at": p.ended_at, "kind": "unblock", "period": p})
    events.sort(key=lambda e: e["at"])
    return events


def blocked_for(since, now=None):
    if not since:
        return None
    return (now or timezone.now()) - since


def format_age(delta: timedelta | None) -> str:
    if delta is None:
        return ""
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {rest // 60}m"
    return f"{rest // 60}m"


def board_for_team(team) -> Board | None:
    """The board a team's new cards go to: its first board."""
    return Board.objects.filter(teams=team).order_by("id").first() if team is not None else None


# ------------------------------------------------------------------ card and release pages
# What a card or release page shows of an incident: who has it, how urgent, and its clock.
_INCIDENT_RELATED = ("team", "assignee")


def card_incidents(card) -> list:
    """The incidents linked to the card (escalated into it), with team and assignee: one query."""
    return list(card.incidents.select_related(*_INCIDENT_RELATED).order_by("id"))


def card_caused_incidents(card) -> list:
    """The incidents whose cause is recorded as this card (SPEC §3): one query."""
    return list(card.caused_incidents.select_related(*_INCIDENT_RELATED).order_by("id"))


def release_list(*, board=None):
    """Releases with their board and card count, newest plan first: one query for any number."""
    qs = Release.objects.select_related("board").annotate(card_count=Count("cards"))
    if board is not None:
        qs = qs.filter(board=board)
    return qs.order_by("board__name", "board_id", "-planned_for", "name")


def release_state(release, today=None) -> tuple[str, str]:
    """(code, label) of where a release stands, for a badge."""
    if release.deployed_at is not None:
        return "deployed", "Deployed"
    if release.planned_for is None:
        return "unscheduled", "Not scheduled"
    if release.planned_for < (today or timezone.localdate()):
        return "late", "Planned date passed"
    return "planned", "Planned"


def release_get(pk) -> Release:
    return Release.objects.select_related("board").get(pk=pk)


def release_cards(release) -> list:
    """The release's cards with where each stands (column, lane, assignee, block): one query."""
    return list(
        release.cards.select_related("column", "lane", "assignee", "block_reason").order_by(
            "column__position", "key"
        )
    )


def release_linked_incidents(release) -> list:
    """The incidents linked to the release's cards, each once with `via_cards` (the release's
    cards it is linked to): one query."""
    links = (
        CardIncident.objects.filter(card__release=release)
        .select_related("card", *(f"incident__{name}" for name in _INCIDENT_RELATED))
        .order_by("incident_id", "card__key")
    )
    incidents: dict = {}
    for link in links:
        incident = incidents.get(link.incident_id)
        if incident is None:
            incident = incidents[link.incident_id] = link.incident
            incident.via_cards = []
        incident.via_cards.append(link.card)
    return list(incidents.values())


def release_caused_incidents(release) -> list:
    """The incidents whose cause is recorded as this release: one query."""
    return list(release.caused_incidents.select_related(*_INCIDENT_RELATED).order_by("id"))

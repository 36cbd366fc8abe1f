"""Reads for boards: a fixed number of queries whatever the number of cards."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, IntegerField, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from incidents.models import Incident
from sla.models import SLATimer, TimerMetric, TimerState

from . import forecasting, hooks
from .forecasting import FixForecast
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

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from org.models import Team

logger = logging.getLogger(__name__)


def _counting_resolution_timers() -> QuerySet[SLATimer]:
    """The resolution timers still counting (running, or breached but not yet resolved) with
    a due instant: the ones whose earliest due instant a card shows."""
    return SLATimer.objects.filter(
        metric=TimerMetric.RESOLUTION,
        # A breached clock still runs until the incident is resolved: the card shows it overdue.
        state__in=[TimerState.RUNNING, TimerState.PAUSED, TimerState.BREACHED],
        is_active=True,
        due_at__isnull=False,
    )


def sla_due_subquery() -> Subquery:
    """The earliest due instant of the counting resolution timers of the incidents linked to
    the card — one correlated subquery, never a query per card."""
    return Subquery(
        _counting_resolution_timers()
        .filter(incident__card_links__card=OuterRef("pk"))
        .order_by("due_at")
        .values("due_at")[:1]
    )


def cards_with_sla(qs: QuerySet[Card] | None = None) -> QuerySet[WithAnnotations[Card]]:
    """Cards annotated with `sla_due_at` (sla_due_subquery)."""
    qs = Card.objects.all() if qs is None else qs
    return qs.annotate(sla_due_at=sla_due_subquery())


def card_api_list(qs: QuerySet[Card], *, with_forecast: bool = False) -> list[Card]:
    """Cards for the API (boards.api.serializers.CardOutSerializer): with `sla_due_at` and
    their incident links prefetched in id order, two queries for any number of cards; with
    `with_forecast`, each card's `fix_forecast` (a FixForecast or None) too, read for the
    whole list at once (two more queries while its boards are unchanged)."""
    links = Prefetch("incident_links", queryset=CardIncident.objects.order_by("incident_id"))
    cards = list(cards_with_sla(qs).prefetch_related(links))
    if with_forecast:
        forecasts = forecasting.card_fix_forecasts([c.pk for c in cards])
        for card in cards:
            # What the card shape's fix_forecast field reads (not a model field).
            card.fix_forecast = forecasts.get(card.pk)  # type: ignore[attr-defined]
    return cards


def card_api_get(pk: int) -> Card:
    """One card for the API, as card_api_list reads it, with its fix forecast."""
    return card_api_list(Card.objects.filter(pk=pk), with_forecast=True)[0]


def board_list() -> QuerySet[Board]:
    """Boards with their teams and their count of open cards."""
    return Board.objects.prefetch_related("teams").annotate(
        card_count=Count("cards", filter=Q(cards__cancelled_at__isnull=True), distinct=True)
    )


def _open_cards_count(**filters: Any) -> Coalesce:
    """The count of open cards matching `filters` (on OuterRef), as a correlated subquery:
    PostgreSQL counts each column's or lane's cards through its foreign-key index. (A join
    grouped by the column's row sorted all 5,000 cards of a large board with every column
    field, 8 ms; this is well under one.)"""
    counted = (
        Card.objects.filter(cancelled_at__isnull=True, **filters)
        .order_by()
        .values(next(iter(filters)).split("__")[0])
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _column_rows(qs: QuerySet[Column]) -> list[dict[str, Any]]:
    columns = list(
        qs.annotate(count=_open_cards_count(column=OuterRef("pk")))
        .order_by("board_id", "position", "id")
        .values("id", "board_id", "name", "category", "position", "wip_min", "wip_max", "count")
    )
    for col in columns:
        col["over"] = col["wip_max"] is not None and col["count"] > col["wip_max"]
        col["at_limit"] = col["wip_max"] is not None and col["count"] == col["wip_max"]
        col["under"] = col["wip_min"] is not None and col["count"] < col["wip_min"]
    return columns


def board_columns(board: Board | None = None) -> list[dict[str, Any]]:
    """Columns with their card count and WIP flags (count over max / under min); of every
    board, in board order, when no board is given."""
    return _column_rows(Column.objects.all() if board is None else Column.objects.filter(board=board))


def column_row(column: Column) -> dict[str, Any]:
    """One column as board_columns shows it."""
    return _column_rows(Column.objects.filter(pk=column.pk))[0]


def _lane_rows(qs: QuerySet[Lane]) -> list[dict[str, Any]]:
    lanes = list(
        qs.annotate(
            in_progress=_open_cards_count(lane=OuterRef("pk"), column__category=ColumnCategory.IN_PROGRESS)
        )
        .order_by("board_id", "position", "id")
        .values("id", "board_id", "name", "kind", "position", "wip_max", "in_progress")
    )
    for lane in lanes:
        lane["over"] = lane["wip_max"] is not None and lane["in_progress"] > lane["wip_max"]
        lane["at_limit"] = lane["wip_max"] is not None and lane["in_progress"] == lane["wip_max"]
    return lanes


def board_lanes(board: Board | None = None) -> list[dict[str, Any]]:
    """Lanes with their cards in progress and their WIP flag (a lane's limit counts those);
    of every board when no board is given."""
    return _lane_rows(Lane.objects.all() if board is None else Lane.objects.filter(board=board))


def lane_row(lane: Lane) -> dict[str, Any]:
    """One lane as board_lanes shows it."""
    return _lane_rows(Lane.objects.filter(pk=lane.pk))[0]


@dataclass(frozen=True)
class BoardDetail:
    """What the board endpoint shows: the board, its columns and lanes with their counts, and
    its open cards (None when the caller has the database write them as JSON instead)."""

    board: Board
    columns: list[dict[str, Any]]
    lanes: list[dict[str, Any]]
    cards: list[Card] | None


def _board_cards_qs(board: Board) -> QuerySet[Card]:
    return Card.objects.filter(board=board, cancelled_at__isnull=True).order_by("rank", "id")


def board_detail(board: Board, *, with_cards: bool = True) -> BoardDetail:
    """The board endpoint's records: a fixed number of queries for any number of cards."""
    cards = card_api_list(_board_cards_qs(board)) if with_cards else None
    return BoardDetail(board=board, columns=board_columns(board), lanes=board_lanes(board), cards=cards)


_CARD_COLUMNS = frozenset(f.attname for f in Card._meta.concrete_fields)
BOARD_CARDS_CACHE_SECONDS = 600


def _row_version_sql(relation: str) -> str:
    """A row version's identity as a 64-bit hash, for rows of `relation` (a table or an
    alias): PostgreSQL's xmin (the transaction that wrote this version) and ctid (where the
    version is stored). Every insert and update writes a new version, and no two live
    versions share both: a later transaction has another xmin, and a second write in the
    same transaction lands at another ctid."""
    return f"hashtextextended({relation}.xmin::text || {relation}.ctid::text, 0)"


def _row_version(model: type[Any]) -> RawSQL:
    """_row_version_sql of a model's rows, as an annotation."""
    table = connection.ops.quote_name(model._meta.db_table)
    return RawSQL(_row_version_sql(table), ())  # noqa: S611 - a model's own table name


def _board_card_sets(
    board: Board, card_columns: Iterable[str], *, versions: bool
) -> tuple[str, tuple[Any, ...]]:
    """The CTEs the board's cards are read from: `t` the open cards (`card_columns`, id and
    rank), `l` their incident links, `u` the counting resolution timers of the linked
    incidents, one row per link; with `versions`, each row with its `row_version`."""
    cards = _board_cards_qs(board).order_by()
    timers = _counting_resolution_timers()
    card_values, timer_values, link_version = [*sorted({"id", "rank", *card_columns})], ["due_at"], ""
    if versions:
        cards = cards.annotate(row_version=_row_version(Card))
        timers = timers.annotate(row_version=_row_version(SLATimer))
        card_values.append("row_version")
        timer_values.append("row_version")
        link_version = f", {_row_version_sql('ci')} AS row_version"
    cards_sql, cards_params = cards.values(*card_values).query.sql_with_params()
    timers_sql, timers_params = timers.values("incident_id", *timer_values).query.sql_with_params()
    link_table = CardIncident._meta.db_table
    timer_columns = ", ".join(f"x.{name}" for name in timer_values)
    # Only code constants and Django-compiled SQL are interpolated; values travel as params.
    sql = (
        f"WITH t AS ({cards_sql}), "  # noqa: S608
        f"l AS (SELECT ci.card_id, ci.incident_id{link_version} "
        f"FROM {link_table} ci JOIN t ON t.id = ci.card_id), "
        f"u AS (SELECT l.card_id, {timer_columns} FROM l JOIN ({timers_sql}) x "
        f"ON x.incident_id = l.incident_id)"
    )
    return sql, (*cards_params, *timers_params)


# Which versions of which rows the cards were read from: per set, a count and a sum of the
# rows' version hashes. Any write to a row gives it a new version, and a row entering or
# leaving a set changes its count and sum, so equal fingerprints mean equal cards (but for
# a 64-bit hash collision).
_FINGERPRINT = " || ':' || ".join(
    f"(SELECT count(*) || '.' || coalesce(sum(row_version), 0) FROM {cte})"  # noqa: S608 - constants
    for cte in ("t", "l", "u")
)


def board_cards_fingerprint(board: Board) -> str:
    """The fingerprint of the rows board_cards_json reads for this board (one statement)."""
    sql, params = _board_card_sets(board, (), versions=True)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} SELECT {_FINGERPRINT}", params)  # noqa: S608 - constants
        return str(cursor.fetchone()[0])


def _board_cards_json_built(board: Board, columns: Mapping[str, str]) -> str:
    """The cards' JSON, built from the rows."""
    sql, params = _board_card_sets(board, columns.values(), versions=False)
    quote = connection.ops.quote_name
    fields = ", ".join(f"t.{column} AS {quote(name)}" for name, column in columns.items())
    # Incident ids and the earliest counting due instant (sla_due_subquery's rule) come from
    # grouped joins over the card set, not a subquery per card (EXPLAIN ANALYZE at 5,000
    # cards: the 5,000 subplans took a quarter of the statement). Each card is one row turned
    # into JSON by row_to_json (its columns named in SQL), cheaper than json_build_object's
    # 38 arguments per card, and compact.
    wrapped = (
        f"{sql}, "  # noqa: S608 - code constants, names quoted (checked by the caller)
        f"ids AS (SELECT card_id, array_agg(incident_id ORDER BY incident_id) AS ids "
        f"FROM l GROUP BY card_id), "
        f"s AS (SELECT card_id, min(due_at) AS due FROM u GROUP BY card_id) "
        f"SELECT coalesce(json_agg(row_to_json(r) ORDER BY t.rank, t.id), '[]')::text "
        f"FROM t LEFT JOIN ids ON ids.card_id = t.id LEFT JOIN s ON s.card_id = t.id, "
        f"LATERAL (SELECT {fields}, coalesce(ids.ids, '{{}}'::integer[]) AS incidents, "
        f"s.due AS sla_due_at) r"
    )
    with connection.cursor() as cursor:
        cursor.execute(wrapped, params)
        return str(cursor.fetchone()[0])


def board_cards_json(board: Board, columns: Mapping[str, str]) -> str | None:
    """The board's open cards as one JSON array built by PostgreSQL itself, or None on other
    databases. `columns`: output key -> Card column (the serializer's fields and sources);
    each card also carries `incidents` (linked ids) and `sla_due_at`, as card_api_list does.

    At thousands of cards, turning rows into Python objects and back into JSON is what
    costs, and even PostgreSQL takes 25 ms to write 5,000 cards as JSON. The text is kept in
    the cache under the fingerprint of the rows it was read from (board_cards_fingerprint,
    1 ms): a read whose rows are unchanged is served from there, and any change to a card,
    a link or a linked incident's clock — through a service, the admin, a bulk update or
    plain SQL — makes a new fingerprint, so a stale text is never served. A text is kept
    with the fingerprint taken before it was built: it is never older than the rows that
    fingerprint names (a write committed in between makes it newer, and makes the next
    fingerprint differ). One entry per board and shape, replaced by the next build: a busy
    board's moves must not fill the cache (Redis, shared with the task broker) with a
    megabyte per version."""
    if connection.vendor != "postgresql":
        return None
    unknown = set(columns.values()) - _CARD_COLUMNS
    if unknown:
        raise ValueError(f"Not columns of a card: {sorted(unknown)}")
    shape = hashlib.blake2b(repr(sorted(columns.items())).encode(), digest_size=6).hexdigest()
    key = f"board-cards:v2:{board.pk}:{shape}"
    fingerprint = board_cards_fingerprint(board)
    try:
        cached = cache.get(key)
    except Exception as exc:  # noqa: BLE001 - any cache backend's connection error
        logger.warning("board cards cache unavailable, building: %s", exc)
        cached = None
    if isinstance(cached, tuple) and len(cached) == 2 and cached[0] == fingerprint:
        return str(cached[1])
    cards = _board_cards_json_built(board, columns)
    try:
        cache.set(key, (fingerprint, cards), BOARD_CARDS_CACHE_SECONDS)
    except Exception as exc:  # noqa: BLE001
        logger.warning("board cards cache unavailable, not keeping: %s", exc)
    return cards


def release_api_list(board_id: int | None = None) -> QuerySet[Release]:
    """Releases for the API with their card count, by board, newest plan first."""
    qs = Release.objects.annotate(card_count=Count("cards")).order_by("board_id", "-planned_for", "name")
    return qs if board_id is None else qs.filter(board_id=board_id)


def release_api_get(pk: int) -> Release:
    """One release for the API: its card count and its cards by key (two queries)."""
    cards = Prefetch("cards", queryset=Card.objects.order_by("key"))
    return Release.objects.annotate(card_count=Count("cards")).prefetch_related(cards).get(pk=pk)


BOARD_FILTERS = ("sprint", "release", "assignee", "type", "blocked")


def board_card_filter(qs: QuerySet[Card], filters: Mapping[str, Any]) -> QuerySet[Card]:
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


def board_page_cards(
    board: Board, filters: Mapping[str, Any], now: datetime | None = None
) -> list[dict[str, Any]]:
    """The cards shown on the board page, as plain dicts with the assignee's name.

    Done columns show what finished in the last two weeks; older work is in the metrics
    and the releases, and would only make the board long."""
    recent = (now or timezone.now()) - timedelta(days=DONE_SHOWN_DAYS)
    qs = Card.objects.filter(board=board, cancelled_at__isnull=True).exclude(
        column__category=ColumnCategory.DONE, done_at__lt=recent
    )
    qs = board_card_filter(qs, filters)
    return list(
        qs.annotate(sla_due_at=sla_due_subquery())  # as cards_with_sla, visible to mypy's plugin
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


def board_version(board: Board) -> str:
    """A cheap fingerprint of everything the board page shows; changes when any card does."""
    agg = Card.objects.filter(board=board).aggregate(n=Count("id"), last=Max("updated_at"))
    last = agg["last"].timestamp() if agg["last"] else 0
    return f"{agg['n']}-{last:.6f}"


def active_sprint_support_member(board: Board) -> Any | None:
    """The board's running sprint (a sprints.Sprint, with its support member), if any."""
    return hooks.sprint_planning().active_sprint(board=board)


def reason_codes(kind: str | None = None) -> QuerySet[ReasonCode]:
    """Active reason codes, of one kind when given."""
    qs = ReasonCode.objects.filter(active=True)
    return qs.filter(kind=kind) if kind else qs


def wip_override_reasons() -> QuerySet[ReasonCode]:
    return reason_codes(ReasonKind.WIP_OVERRIDE)


def block_reasons() -> QuerySet[ReasonCode]:
    return reason_codes(ReasonKind.BLOCK)


def releases_for(board: Board) -> QuerySet[Release]:
    return Release.objects.filter(board=board)


def card_history(card: Card) -> list[dict[str, Any]]:
    """Moves and blocks of one card, merged and ordered by time (three queries)."""
    events: list[dict[str, Any]] = []
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


def blocked_for(since: datetime | None, now: datetime | None = None) -> timedelta | None:
    """How long a card has been blocked (None: it is not)."""
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


def board_for_team(team: Team | None) -> Board | None:
    """The board a team's new cards go to: its first board."""
    return Board.objects.filter(teams=team).order_by("id").first() if team is not None else None


# ------------------------------------------------------------------ card and release pages
# What a card or release page shows of an incident: who has it, how urgent, and its clock.
_INCIDENT_RELATED = ("team", "assignee")


def card_incidents(card: Card) -> list[Incident]:
    """The incidents linked to the card (escalated into it), with team and assignee: one query."""
    return list(card.incidents.select_related(*_INCIDENT_RELATED).order_by("id"))


def card_waiting(incidents: list[Incident]) -> dict[str, int]:
    """Who waits on a card: its open linked incidents and their distinct customers (a problem's
    card carries all of the problem's incidents). Counted from the incidents already read."""
    waiting = [i for i in incidents if i.is_open]
    return {"incidents": len(waiting), "customers": len({i.customer_id for i in waiting if i.customer_id})}


def card_caused_incidents(card: Card) -> list[Incident]:
    """The incidents whose cause is recorded as this card (SPEC §3): one query."""
    return list(card.caused_incidents.select_related(*_INCIDENT_RELATED).order_by("id"))


def release_list(*, board: Board | None = None) -> QuerySet[Release]:
    """Releases with their board and card count, newest plan first: one query for any number."""
    qs = Release.objects.select_related("board").annotate(card_count=Count("cards"))
    if board is not None:
        qs = qs.filter(board=board)
    return qs.order_by("board__name", "board_id", "-planned_for", "name")


def release_state(release: Release, today: date | None = None) -> tuple[str, str]:
    """(code, label) of where a release stands, for a badge."""
    if release.deployed_at is not None:
        return "deployed", "Deployed"
    if release.planned_for is None:
        return "unscheduled", "Not scheduled"
    if release.planned_for < (today or timezone.localdate()):
        return "late", "Planned date passed"
    return "planned", "Planned"


def release_get(pk: int) -> Release:
    """One release with its board."""
    return Release.objects.select_related("board").get(pk=pk)


def release_cards(release: Release) -> list[Card]:
    """The release's cards with where each stands (column, lane, assignee, block): one query."""
    return list(
        release.cards.select_related("column", "lane", "assignee", "block_reason").order_by(
            "column__position", "key"
        )
    )


def release_linked_incidents(release: Release) -> list[Incident]:
    """The incidents linked to the release's cards, each once with `via_cards` (the release's
    cards it is linked to, by key): two queries for any number."""
    via = Prefetch(
        "cards", queryset=Card.objects.filter(release=release).order_by("key"), to_attr="via_cards"
    )
    return list(
        Incident.objects.filter(card_links__card__release=release)
        .distinct()
        .select_related(*_INCIDENT_RELATED)
        .prefetch_related(via)
        .order_by("id")
    )


def release_caused_incidents(release: Release) -> list[Incident]:
    """The incidents whose cause is recorded as this release: one query."""
    return list(release.caused_incidents.select_related(*_INCIDENT_RELATED).order_by("id"))


# ------------------------------------------------------------------ fix forecast (SPEC §15)
def incident_fix_forecasts(
    incident_ids: Iterable[int], *, today: date | None = None
) -> dict[int, FixForecast | None]:
    """The fix forecast of many incidents at once, for any app that shows one (the incident
    API and pages, the portal): {incident id: FixForecast, or None when no linked card is
    open}. Every requested id is a key.

    A FixForecast (boards.forecasting) names the card the fix waits for (`card_id`,
    `card_key`; of several open cards, the latest to finish), `status` ("ok", or
    "insufficient_history": too little done work on the board to forecast, say so instead
    of a date; or "beyond_horizon"), `p50` and `p85` (dates by which it is done with 50 % and
    85 % likelihood; None unless ok), the card's `release` (id, name, planned_for,
    deployed_at) or None, and `as_dict()`, the API's `fix_forecast` object.

    Reads the cached per-card forecasts: two queries for any number of incidents while the
    boards are unchanged; a board whose cards moved since is recomputed first, once."""
    return forecasting.incident_fix_forecasts(incident_ids, today=today)


def incident_fix_forecast(incident_id: int, *, today: date | None = None) -> FixForecast | None:
    """One incident's fix forecast (see incident_fix_forecasts); None when no open card."""
    return forecasting.incident_fix_forecasts([incident_id], today=today)[incident_id]


def card_fix_forecast(card: Card, *, today: date | None = None) -> FixForecast | None:
    """A card's own forecast (None when it is done or cancelled)."""
    return forecasting.card_fix_forecasts([card.pk], today=today).get(card.pk)

"""Card ranks: one scheme for the board's cells and the product backlog.

A card has two orders, both integers where smaller is higher: `rank`, its place in its
cell (column x lane) of the board, and `backlog_rank`, its place in the product backlog
(sprints plans with it). Both leave RANK_GAP between neighbours, so that placing a card
between two others takes the midpoint and rarely renumbers anything; when two neighbours
have no room left between them, the list is spread out again (`spread`).

The arithmetic here is pure; the writers (boards' moves, sprints' backlog services) lock
the rows they rank and save what these functions return.
"""

from ..models import Card

RANK_GAP = 1 << 16


def rank_above(top: int | None) -> int:
    """The rank that puts a card above `top` (None: the list is empty)."""
    return 0 if top is None else top - RANK_GAP


def rank_below(bottom: int | None) -> int:
    """The rank that puts a card below `bottom` (None: the list is empty)."""
    return 0 if bottom is None else bottom + RANK_GAP


def rank_between(before: int | None, after: int | None) -> int | None:
    """The rank for a card between two neighbours (None on a side: no neighbour there);
    None when the neighbours leave no room between them."""
    if before is None:
        return rank_above(after)
    if after is None:
        return rank_below(before)
    if after - before > 1:
        return (before + after) // 2
    return None


def ranks_above(top: int, count: int) -> list[int]:
    """Ranks for `count` cards, in order, above `top`."""
    return [top - (count - i) * RANK_GAP for i in range(count)]


def spread(count: int, *, start: int = RANK_GAP) -> list[int]:
    """Ranks for `count` cards, in order, RANK_GAP apart from `start`: the rebalancing."""
    return [start + i * RANK_GAP for i in range(count)]


def _cell_ranks(
    *, board_id: int, column_id: int, lane_id: int, exclude_id: int | None = None
) -> list[tuple[int, int]]:
    qs = Card.objects.filter(board_id=board_id, column_id=column_id, lane_id=lane_id)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    return list(qs.order_by("rank", "id").values_list("id", "rank"))


def rank_for_position(
    *, board_id: int, column_id: int, lane_id: int, position: int | None, exclude_id: int | None = None
) -> int:
    """The rank that puts a card at index `position` of a cell (None: at the bottom).

    The caller holds the column's row lock, so nobody else ranks into this cell meanwhile.
    """
    cell = _cell_ranks(board_id=board_id, column_id=column_id, lane_id=lane_id, exclude_id=exclude_id)
    if position is None or position > len(cell):
        position = len(cell)
    before = cell[position - 1][1] if position > 0 else None
    after = cell[position][1] if position < len(cell) else None
    rank = rank_between(before, after)
    if rank is not None:
        return rank
    # No room left between neighbours: spread the cell out again, then insert.
    ranks = spread(len(cell))
    Card.objects.bulk_update([Card(pk=pk, rank=r) for (pk, _), r in zip(cell, ranks, strict=True)], ["rank"])
    return position * RANK_GAP + RANK_GAP // 2

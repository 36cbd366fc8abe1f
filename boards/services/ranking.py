"""The order of cards within a cell (column x lane) of the board: the rank arithmetic.

A card's `rank` orders it in its cell; smaller is higher. Ranks leave a gap between
neighbours so that inserting a card rarely renumbers the others.
"""

from ..models import Card

# Ranks within a cell leave this much room between neighbours, so that inserting a card
# rarely needs to renumber the others.
RANK_GAP = 1 << 16


def _cell_ranks(*, board_id, column_id, lane_id, exclude_id=None) -> list[tuple[int, int]]:
    qs = Card.objects.filter(board_id=board_id, column_id=column_id, lane_id=lane_id)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    return list(qs.order_by("rank", "id").values_list("id", "rank"))


def rank_for_position(*, board_id, column_id, lane_id, position, exclude_id=None) -> int:
    """The rank that puts a card at index `position` of a cell (None: at the bottom).

    The caller holds the column's row lock, so nobody else ranks into this cell meanwhile.
    """
    cell = _cell_ranks(board_id=board_id, column_id=column_id, lane_id=lane_id, exclude_id=exclude_id)
    if position is None or position > len(cell):
        position = len(cell)
    before = cell[position - 1][1] if position > 0 else None
    after = cell[position][1] if position < len(cell) else None
    if before is None and after is None:
        return 0
    if before is None:
        return after - RANK_GAP
    if after is None:
        return before + RANK_GAP
    if after - before > 1:
        return (before + after) // 2
    # No room left between neighbours: spread the cell out again, then insert.
    renumbered = [Card(pk=pk, rank=(i + 1) * RANK_GAP) for i, (pk, _) in enumerate(cell)]
    Card.objects.bulk_update(renumbered, ["rank"])
    return position * RANK_GAP + RANK_GAP // 2

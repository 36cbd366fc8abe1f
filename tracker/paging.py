"""Page numbers over lists that may hold a million rows.

Django's Paginator counts every matching row to know the last page; on a busy desk's queue
("open", a third of a million incidents) that COUNT(*) took longer than the rest of the page.
A CappedPaginator counts at most far enough to know the page asked for and `CAP` rows
beyond: the page says "1,000+ incidents" instead of an exact figure nobody reads, and the
next pages stay reachable (asking for page 300 counts up to page 300 plus CAP)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Page, Paginator


class CappedPaginator(Paginator):
    CAP = 1_000

    def __init__(self, object_list: Any, per_page: int, *, wanted_page: Any = None, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        try:
            wanted = max(1, int(wanted_page))
        except (TypeError, ValueError):
            wanted = 1
        self.limit = wanted * per_page + self.CAP

    @cached_property
    def count(self) -> int:
        """The rows counted, at most `limit` (exact when `capped` is False)."""
        rows: Any = self.object_list
        if hasattr(rows, "query"):
            # How many rows there are does not depend on their order or columns: count the
            # primary keys, unordered (the database may walk any index to count them).
            return int(rows.order_by().values("pk")[: self.limit + 1].count())
        return min(len(rows), self.limit + 1)

    @property
    def capped(self) -> bool:
        """True when there are more rows than were counted."""
        return self.count > self.limit

    @property
    def shown_count(self) -> int:
        """What the page says: the exact count, or the counted part of it (with a "+")."""
        return min(self.count, self.limit)


def capped_page(object_list: Any, per_page: int, number: Any) -> Page:
    """The page `number` (the last one when out of range) of a CappedPaginator."""
    return CappedPaginator(object_list, per_page, wanted_page=number).get_page(number)

"""QuerySets shared by the apps."""

from collections.abc import Iterator
from typing import TypeVar

from django.db import models

_M = TypeVar("_M", bound=models.Model)


class SmallTableQuerySet(models.QuerySet[_M]):
    """For small dimension tables (teams, services, customers): iterator() reads the rows
    in one plain query. Django's iterator() opens a server-side cursor on PostgreSQL
    (DECLARE, FETCH, CLOSE: three round trips), and every ModelChoiceField iterates its
    choices that way: the queue page's filter bar and its bulk bar opened four such cursors
    for a few dozen rows. A table this manager serves is read whole without harm."""

    def iterator(self, chunk_size: int | None = None) -> Iterator[_M]:
        yield from self.all()

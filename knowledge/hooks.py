"""Ports higher apps fill in for the knowledge base (see docs/architecture.md).

`problem_refs` — an article made from a known error's workaround keeps the problem's id
(`Article.source_problem_id`); the problems app, which sits above knowledge, registers how
to name and link those problems, so the article page can say "From PRB-12" without
knowledge importing problems. With nothing registered, the page shows no link.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple, Protocol


class ProblemRef(NamedTuple):
    key: str  # "PRB-12"
    title: str
    url: str  # the staff page of the problem


class ProblemRefs(Protocol):
    def __call__(self, problem_ids: Iterable[int]) -> dict[int, ProblemRef]: ...


problem_refs: list[ProblemRefs] = []


def problem_refs_for(problem_ids: Iterable[int]) -> dict[int, ProblemRef]:
    """What the registered providers say about these problems (one call each, for all ids)."""
    ids = sorted({int(i) for i in problem_ids})
    found: dict[int, ProblemRef] = {}
    if not ids:
        return found
    for provider in problem_refs:
        found.update(provider(ids))
    return found

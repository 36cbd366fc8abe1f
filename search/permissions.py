"""Who may search. Each kind of record found is then shown only to those its own app's
predicate lets read it (search.selectors.KINDS)."""

from __future__ import annotations

from typing import Any

from accounts.roles import is_staff_member


def can_search(user: Any) -> bool:
    """Staff (anyone with a role); portal contacts have the portal's own search."""
    return is_staff_member(user)

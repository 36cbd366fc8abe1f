"""Ports of the customer channel's mail that higher apps fill in (docs/architecture.md).

`mail_context`: more template context for an outgoing mail about an incident. The portal
(above mail) registers one in its AppConfig.ready(): the link to the incident in the portal
for a requester who has an account, and the resolution mail's rating link (SPEC §15), so
mail builds both without importing the portal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from incidents.models import Incident

# (incident, kind) -> extra context; kind is a mail.models.MailKind value
MailContext = Callable[["Incident", str], dict[str, Any]]

mail_context: list[MailContext] = []


def extra_context(incident: Incident, kind: str) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for provider in mail_context:
        extra.update(provider(incident, kind))
    return extra

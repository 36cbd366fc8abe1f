"""The incident reply form's "Insert an article" control (incidents.hooks.reply_tools).

The incident page includes the template with the reply form's `textarea_id` and
`visibility_name` (its message box and its "Visible to" radios)."""

from __future__ import annotations

from typing import Any

from incidents.models import Incident

from .permissions import can_view_articles

TEMPLATE = "knowledge/_reply_picker.html"


def article_picker_tool(*, request: Any, incident: Incident) -> tuple[str, dict[str, Any]] | None:
    if not can_view_articles(request.user):
        return None
    return TEMPLATE, {
        "incident_key": incident.key,
        "service_name": incident.service.name if incident.service_id else "this service",
    }

"""The audit log page (managers): filters, newest first with keyset paging, CSV export."""

import json
from datetime import UTC, datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit.selectors import audit_entry_list
from tracker.csv import csv_response

from .audit_forms import AuditFilterForm
from .permissions import can_read_audit_log

PAGE_SIZE = 50


def _require_reader(request):
    if not can_read_audit_log(request.user):
        raise PermissionDenied


def _value(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value or '""'
    return json.dumps(value, ensure_ascii=False)


def _actor_name(entry) -> str:
    if entry.actor is None:
        return "System"
    return entry.actor.get_full_name() or entry.actor.get_username()


def _older_than(qs, cursor: str):
    """Keyset paging: `cursor` is "<iso at>_<id>" of the last row shown."""
    at_raw, _, id_raw = cursor.rpartition("_")
    at = parse_datetime(at_raw) if at_raw else None
    if at is None or not id_raw.isdigit():
        return qs
    return qs.filter(Q(at__lt=at) | Q(at=at, id__lt=int(id_raw)))


def audit_log(request):
    _require_reader(request)
    form = AuditFilterForm(request.GET or None)
    qs = audit_entry_list(filters=form.filters())
    if request.GET.get("format") == "csv":
        return _csv(qs)
    cursor = request.GET.get("before", "")
    page = list((_older_than(qs, cursor) if cursor else qs)[: PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    rows = [
        {
            "entry": entry,
            "actor": _actor_name(entry),
            "changes": [(field, _value(old), _value(new)) for field, (old, new) in entry.changes.items()],
        }
        for entry in page
    ]
    query = request.GET.copy()
    query.pop("before", None)
    next_cursor = f"{page[-1].at.isoformat()}_{page[-1].pk}" if more else ""
    return render(
        request,
        "audit/log.html",
        {
            "form": form,
            "rows": rows,
            "next_cursor": next_cursor,
            "query": query.urlencode(),
            "first_page": not cursor,
        },
        status=400 if form.errors else 200,
    )


def _csv(qs):
    header = ["When", "Who", "What", "Object id", "Object", "Action", "Field", "Old", "New"]

    def rows():
        for entry in qs.iterator(chunk_size=2000):
            at = timezone.localtime(entry.at).replace(microsecond=0)
            base = [at, _actor_name(entry), entry.model, entry.object_id, entry.object_repr]
            action = entry.get_action_display()
            if not entry.changes:
                yield [*base, action, "", "", ""]
            for field, (old, new) in entry.changes.items():
                yield [*base, action, field, _value(old), _value(new)]

    stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M")
    return csv_response(f"audit-log-{stamp}.csv", header, rows())

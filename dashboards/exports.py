"""CSV exports, streamed: rows come from a server-side cursor (`.iterator()`) and leave
as they are written, so 100,000 rows never sit in memory together."""

import csv
from datetime import datetime

from django.http import StreamingHttpResponse
from django.utils import timezone

INCIDENT_COLUMNS = (
    ("key", "Key"),
    ("title", "Title"),
    ("type", "Type"),
    ("priority", "Priority"),
    ("status", "Status"),
    ("tier", "Tier"),
    ("team__name", "Team"),
    ("service__name", "Service"),
    ("customer__name", "Customer"),
    ("assignee__username", "Assignee"),
    ("created_at", "Created"),
    ("responded_at", "First response"),
    ("resolved_at", "Resolved"),
)
CHUNK = 2000
# Spreadsheet programs run cells that start with these as formulas.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value):
        return value


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_response(filename: str, header, rows) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def generate():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([_cell(v) for v in row])

    response = StreamingHttpResponse(generate(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def incident_rows(qs, extra=()):
    """(header, rows) of incidents; `extra` adds (lookup, label) columns."""
    columns = (*INCIDENT_COLUMNS, *extra)
    header = [label for _, label in columns]
    rows = qs.values_list(*(lookup for lookup, _ in columns)).iterator(chunk_size=CHUNK)
    return header, rows


def dict_rows(items, columns):
    """(header, rows) from a small list of dicts (dashboard tables already aggregated)."""
    return [label for _, label in columns], ([item.get(key) for key, _ in columns] for item in items)

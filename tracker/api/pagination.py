"""List pagination.

Small lists use page numbers. The big lists (incidents, cards) use keyset ("cursor")
pagination: the `next` link carries the sort values of the last row served, and the next page
is read with a WHERE on those values, so page 1,000 costs what page 1 costs and rows inserted
meanwhile neither repeat nor vanish. Unlike DRF's own CursorPagination it follows any
ordering the view has applied (several columns, expressions with NULLS LAST, the `ordering`
query parameter) and always ends on the primary key, so ties cannot skip rows.
"""

import base64
import binascii
import datetime
import decimal
import json
from collections import OrderedDict

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Q
from django.db.models.expressions import OrderBy
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

INVALID_CURSOR = "Invalid cursor: use the `next` link of the previous page."


class PageNumberPagination(pagination.PageNumberPagination):
    """`{"count", "next", "previous", "results"}`; clients may ask for up to 500 rows a page."""

    page_size_query_param = "page_size"
    max_page_size = 500


class _Key:
    """One column of the ordering: its name, direction and where its NULLs go."""

    def __init__(self, name, descending, nulls_first, field):
        self.name = name
        self.descending = descending
        self.nulls_first = nulls_first
        self.field = field
        self.nullable = field is None or getattr(field, "null", True)

    def order_by(self):
        expression = F(self.name)
        if not self.nullable:
            return expression.desc() if self.descending else expression.asc()
        kwargs = {"nulls_first": True} if self.nulls_first else {"nulls_last": True}
        return expression.desc(**kwargs) if self.descending else expression.asc(**kwargs)

    def after(self, value) -> Q | None:
        """Rows strictly after `value` in this column's order (None: no row can be)."""
        if value is None:
            return Q(**{f"{self.name}__isnull": False}) if self.nulls_first else None
        beyond = Q(**{f"{self.name}__{'lt' if self.descending else 'gt'}": value})
        if self.nullable and not self.nulls_first:
            beyond |= Q(**{f"{self.name}__isnull": True})
        return beyond

    def equal(self, value) -> Q:
        if value is None:
            return Q(**{f"{self.name}__isnull": True})
        return Q(**{self.name: value})

    def encode(self, value):
        if isinstance(value, datetime.datetime | datetime.date | datetime.time):
            return value.isoformat()
        if isinstance(value, decimal.Decimal):
            return str(value)
        return value

    def decode(self, raw):
        if raw is None:
            return None
        if self.field is None:
            return raw
        value = self.field.to_python(raw)
        self.field.run_validators(value)  # e.g. an integer beyond the column's range
        return value


class CursorPagination(pagination.BasePagination):
    """`{"results": [...], "next": url|null}` by keyset; `?page_size=` up to 500."""

    page_size = 50
    max_page_size = 500
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"
    default_ordering = ("-id",)

    # ------------------------------------------------------------ the ordering
    def _field(self, queryset, name):
        if name in queryset.query.annotations:
            return getattr(queryset.query.annotations[name], "output_field", None)
        try:
            return queryset.model._meta.get_field(name)
        except FieldDoesNotExist:
            return None

    def _keys(self, queryset) -> list[_Key]:
        ordering = list(queryset.query.order_by) or list(queryset.model._meta.ordering) or []
        ordering = ordering or list(self.default_ordering)
        keys, seen = [], set()
        pk_names = {"pk", "id", queryset.model._meta.pk.attname, queryset.model._meta.pk.name}
        for item in ordering:
            if isinstance(item, str):
                descending = item.startswith("-")
                name = item.lstrip("-+")
                nulls_first = False
            elif isinstance(item, OrderBy) and isinstance(item.expression, F):
                name = item.expression.name
                descending = item.descending
                nulls_first = bool(item.nulls_first)
            else:
                raise TypeError(f"cursor pagination cannot order by {item!r}")
            if name in seen:
                continue
            if "__" in name:
                raise TypeError(f"cursor pagination orders by the row's own columns, not {name}")
            field = self._field(queryset, name)
            if getattr(field, "is_relation", False):
                name = field.attname  # order by the key, not the related model's Meta.ordering
            seen.add(name)
            keys.append(_Key(name, descending, nulls_first, field))
            if name in pk_names:
                return keys
        pk = queryset.model._meta.pk
        keys.append(_Key(pk.attname, keys[-1].descending if keys else True, False, pk))
        return keys

    # ------------------------------------------------------------ the cursor
    def _decode_cursor(self, request, keys):
        raw = request.query_params.get(self.cursor_query_param)
        if not raw:
            return None
        try:
            padded = raw + "=" * (-len(raw) % 4)
            values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
            if not isinstance(values, list) or len(values) != len(keys):
                raise ValueError
            return [key.decode(v) for key, v in zip(keys, values, strict=True)]
        except (ValueError, TypeError, UnicodeError, binascii.Error, DjangoValidationError):
            raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]}) from None

    def _encode_cursor(self, keys, row) -> str:
        values = [key.encode(_value(row, key.name)) for key in keys]
        text = json.dumps(values, separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")

    def _page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw in (None, ""):
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError({self.page_size_query_param: ["Give a whole number."]}) from None
        if size < 1:
            raise ValidationError({self.page_size_query_param: ["Give at least 1."]})
        return min(size, self.max_page_size)

    # ------------------------------------------------------------ DRF's interface
    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        keys = self._keys(queryset)
        size = self._page_size(request)
        queryset = queryset.order_by(*[key.order_by() for key in keys])
        position = self._decode_cursor(request, keys)
        if position is not None:
            condition, equal_so_far = Q(pk__in=[]), Q()
            for key, value in zip(keys, position, strict=True):
                beyond = key.after(value)
                if beyond is not None:
                    condition |= equal_so_far & beyond
                equal_so_far &= key.equal(value)
            queryset = queryset.filter(condition)
        rows = list(queryset[: size + 1])
        self.has_next = len(rows) > size
        rows = rows[:size]
        self.next_cursor = self._encode_cursor(keys, rows[-1]) if self.has_next else None
        return rows

    def get_next_link(self):
        if not self.next_cursor:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, self.next_cursor)

    def get_paginated_response(self, data):
        return Response(OrderedDict([("results", data), ("next", self.get_next_link())]))

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {
                "results": schema,
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page, or null on the last page.",
                },
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position from the `next` link of the previous page.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (default {self.page_size}, at most {self.max_page_size}).",
                "schema": {"type": "integer", "minimum": 1},
            },
        ]


def _value(row, name):
    if isinstance(row, dict):
        return row[name]
    return getattr(row, name)

"""OpenAPI generation: every operation documents the error responses it can give, in the shapes
tracker.api.exceptions produces, so clients (and Schemathesis) can rely on the schema for
failures as well as successes.

Which errors an operation can give follows from what it is, not from a list kept by hand:
- 401 when it needs a login, 403 when it has a permission check, 429 from the throttles;
- 404 when its path names a record;
- 400 when it reads a body or query parameters (field messages; a malformed body gives
  `{"detail": "..."}`);
- 409 `{"code", "detail"}` when it writes (services refuse transitions, WIP limits, stale
  versions);
- 422 `{"code": "idempotency_key_reused", "detail"}` when it takes an `Idempotency-Key`;
- 503 `{"code": "database_unavailable", "detail"}` from any operation while PostgreSQL is away.
"""

import copy

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny

from .pagination import PageNumberPagination

DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}

ERROR_COMPONENTS = {
    "ValidationError": {
        "type": "object",
        "description": (
            'Bad input: `{"field": ["message", ...]}` per field, `non_field_errors` for the whole '
            'request; nested inputs give nested objects; an unparsable body gives `{"detail": "..."}`.'
        ),
        "additionalProperties": {
            "anyOf": [
                {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
                {"type": "object"},
                {"type": "string"},
            ]
        },
        "example": {"title": ["This field is required."]},
    },
    "Conflict": {
        "type": "object",
        "description": "The request is valid but the record's state refuses it.",
        "properties": {
            "code": {
                "type": "string",
                "description": "Machine-readable reason, e.g. transition_not_allowed, wip_limit_exceeded, "
                "stale_object.",
            },
            "detail": {"type": "string"},
        },
        "required": ["code", "detail"],
        "example": {"code": "transition_not_allowed", "detail": "A closed incident cannot be reopened."},
    },
    "ErrorDetail": DETAIL,
    "ServiceUnavailable": {
        "type": "object",
        "description": "The database is unreachable for the moment; retry.",
        "properties": {
            "code": {"type": "string", "example": "database_unavailable"},
            "detail": {"type": "string"},
        },
        "required": ["code", "detail"],
    },
}

DESCRIPTIONS = {
    "400": "Invalid input",
    "401": "Not authenticated: send `Authorization: Token <token>`",
    "403": "Your role may not do this",
    "404": "No such record",
    "409": "Refused in the record's current state",
    "422": "This Idempotency-Key was already used for a different request",
    "429": "Too many requests: wait and retry",
    "503": "The database is unavailable: retry shortly",
}

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(BaseAutoSchema):
    def _error_ref(self, name):
        component = ResolvedComponent(
            name=name,
            type=ResolvedComponent.SCHEMA,
            object=name,
            # A copy: drf-spectacular's post-processing rewrites component schemas in place.
            schema=copy.deepcopy(ERROR_COMPONENTS[name]),
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _error(self, code, name):
        return {
            "description": DESCRIPTIONS[code],
            "content": {"application/json": {"schema": self._error_ref(name)}},
        }

    def _public(self) -> bool:
        return any(
            isinstance(p, AllowAny) or p is AllowAny for p in getattr(self.view, "permission_classes", [])
        )

    def _page_numbers(self) -> bool:
        if self.method != "GET":
            return False
        if any(getattr(p, "name", None) == "page" for p in self.get_override_parameters()):
            return True
        return self._is_list_view() and isinstance(self._get_paginator(), PageNumberPagination)

    def _reads_input(self) -> bool:
        if self.method in WRITE_METHODS:
            return True
        return bool(self._get_filter_parameters() or self._get_pagination_parameters()) or any(
            True for _ in self.get_override_parameters()
        )

    def _resolve_path_parameters(self, variables):
        # Routers with lookup_value_regex=r"\d+" come out as strings with a pattern: ids are
        # integers.
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if schema.get("type") == "string" and schema.get("pattern") in ("^\\d+$", "\\d+"):
                parameter["schema"] = {"type": "integer"}
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        wanted = {"429": "ErrorDetail", "503": "ServiceUnavailable"}
        if not self._public():
            wanted.update({"401": "ErrorDetail", "403": "ErrorDetail"})
        if "{" in self.path or self._page_numbers():
            wanted["404"] = "ErrorDetail"  # page-number lists answer 404 for a page past the end
        if self._reads_input():
            wanted["400"] = "ValidationError"
        if self.method in WRITE_METHODS:
            wanted["409"] = "Conflict"
        if any(getattr(p, "name", None) == "Idempotency-Key" for p in self.get_override_parameters()):
            wanted["422"] = "Conflict"
        for code, name in wanted.items():
            existing = responses.get(code)
            if existing is None or "content" not in existing:
                responses[code] = self._error(code, name) | (
                    {"description": existing["description"]} if existing else {}
                )
        return dict(sorted(responses.items()))

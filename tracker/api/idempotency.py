"""Safe retries of creates: `Idempotency-Key: <unique string>` on a POST makes it happen
once. The key, a fingerprint of the request and the response are stored in the create's
own transaction, so a retry gets the stored response (header `Idempotent-Replayed: true`),
a retry that races the original waits for it on the key's unique index, and a create that
failed stores nothing (the retry runs it again). The same key with a different request is
a 422. Keys are per user and kept IDEMPOTENCY_KEEP_HOURS."""

import hashlib
import json
from functools import wraps

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from tracker.models import IdempotentRequest

HEADER = "Idempotency-Key"
MAX_LENGTH = 100

# For extend_schema(parameters=[...]) on the operations that honour the header.
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "A unique string (e.g. a UUID) per intended create. Sending the same key again returns "
        "the first response instead of creating twice; the same key with another body is a 422."
    ),
)


class KeyReused(APIException):
    """422 `{"code": "idempotency_key_reused", "detail": ...}`, shaped like the 409s."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY

    def __init__(self):
        super().__init__(
            {
                "code": "idempotency_key_reused",
                "detail": "This Idempotency-Key was already used for a different request.",
            }
        )


class _Failed(Exception):
    """Leaves the transaction (storing nothing) with a response that was not a success."""

    def __init__(self, response):
        self.response = response


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, cls=DjangoJSONEncoder, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent(handler):
    """Decorate a view method that creates something on POST."""

    @wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return handler(self, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > MAX_LENGTH or not key.isprintable():
            raise ValidationError({HEADER: [f"Give 1 to {MAX_LENGTH} printable characters."]})
        fingerprint = _fingerprint(request)
        try:
            with transaction.atomic():
                record, created = IdempotentRequest.objects.get_or_create(
                    user=request.user,
                    key=key,
                    defaults={
                        "method": request.method,
                        "path": request.path[:300],
                        "fingerprint": fingerprint,
                        "status_code": 0,
                        "body": None,
                    },
                )
                if not created:
                    if record.fingerprint != fingerprint:
                        raise KeyReused()
                    replay = Response(record.body, status=record.status_code)
                    replay["Idempotent-Replayed"] = "true"
                    return replay
                response = handler(self, request, *args, **kwargs)
                if not 200 <= response.status_code < 300:
                    raise _Failed(response)
                record.status_code = response.status_code
                record.body = response.data
                record.save(update_fields=["status_code", "body"])
                return response
        except _Failed as failed:
            return failed.response

    return wrapper

from datetime import UTC, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ..metrics import sla_metrics
from ..permissions import can_read_sla_reports

DEFAULT_DAYS = 30


def _instant(value, field, *, end=False):
    """A date (whole days, UTC) or an ISO 8601 instant with offset."""
    try:
        day = parse_date(value) if len(value) == 10 else None
        moment = None if day else parse_datetime(value)
    except ValueError:
        raise ValidationError({field: ["That is not a valid date."]}) from None
    if moment is not None:
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)
    if day is None:
        raise ValidationError({field: ["Use a date (YYYY-MM-DD) or an ISO 8601 date-time."]})
    if end:
        day += timedelta(days=1)  # "to" a date includes that whole day
    return datetime.combine(day, time.min, tzinfo=UTC)


_Counts = inline_serializer(
    "SLACounts",
    {
        "met": serializers.IntegerField(),
        "breached": serializers.IntegerField(),
        "compliance": serializers.FloatField(allow_null=True, help_text="null when nothing was measured"),
    },
)


class SLAMetricsApi(APIView):
    """SLA compliance, MTTA and MTTR for incidents created in a period (default: 30 days).

    Managers only, like the SLA dashboards (`dashboards.permissions.can_read_sla_reports`)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.STR, description="Start date or instant (inclusive)"),
            OpenApiParameter(
                "to", OpenApiTypes.STR, description="End date (inclusive) or instant (exclusive)"
            ),
            OpenApiParameter("team", OpenApiTypes.INT),
            OpenApiParameter("service", OpenApiTypes.INT),
            OpenApiParameter("priority", OpenApiTypes.STR),
        ],
        responses=inline_serializer(
            "SLAMetrics",
            {
                "response": _Counts,
                "resolution": _Counts,
                "mtta_seconds": serializers.IntegerField(allow_null=True),
                "mttr_seconds": serializers.IntegerField(allow_null=True),
                "incidents": serializers.IntegerField(),
                "from": serializers.DateTimeField(),
                "to": serializers.DateTimeField(),
            },
        ),
    )
    def get(self, request):
        if not can_read_sla_reports(request.user):
            raise PermissionDenied("SLA metrics are for managers.")
        params = request.query_params
        end = _instant(params["to"], "to", end=True) if params.get("to") else timezone.now()
        start = _instant(params["from"], "from") if params.get("from") else end - timedelta(days=DEFAULT_DAYS)
        if start >= end:
            raise ValidationError({"from": ["The start must be before the end."]})
        condition = Q()
        for field in ("team", "service"):
            if params.get(field):
                if not params[field].isdigit():
                    raise ValidationError({field: ["Give the id as a whole number."]})
                condition &= Q(**{f"{field}_id": int(params[field])})
        if params.get("priority"):
            condition &= Q(priority=params["priority"])
        body = sla_metrics(start=start, end=end, incident_q=condition)
        body["from"] = start.isoformat()
        body["to"] = end.isoformat()
        return Response(body)

from django.utils import timezone
from rest_framework import serializers

from sla.models import BusinessCalendar, SLAPolicy, SLATimer
from sla.selectors import timer_at_risk, timer_remaining_seconds
from sla.services.policies import POLICY_FIELDS


class SLATimerSerializer(serializers.ModelSerializer):
    """One `sla` item of an incident: {metric, state, due_at, remaining_seconds, breached_at}
    plus warn_at, at_risk, paused_cause and target_minutes.

    No queries per row when the timers come with `select_related("policy__calendar")`
    (see sla.selectors.sla_timer_prefetch). One `now` is shared by all rows of a response
    through the serializer context ("now"), so a list is consistent.
    """

    remaining_seconds = serializers.SerializerMethodField()
    at_risk = serializers.SerializerMethodField()
    paused_cause = serializers.SerializerMethodField()

    class Meta:
        model = SLATimer
        fields = [
            "metric",
            "state",
            "due_at",
            "remaining_seconds",
            "breached_at",
            "warn_at",
            "at_risk",
            "paused_cause",
            "target_minutes",
        ]
        read_only_fields = fields

    def _now(self):
        now = self.context.get("now") if self.context is not None else None
        if now is None:
            now = timezone.now()
            if self.context is not None and isinstance(self.context, dict):
                self.context["now"] = now
        return now

    def get_remaining_seconds(self, timer) -> int | None:
        return timer_remaining_seconds(timer, self._now())

    def get_at_risk(self, timer) -> bool:
        return timer_at_risk(timer, self._now())

    def get_paused_cause(self, timer) -> str | None:
        return timer.pause_cause or None if timer.paused_at is not None else None


class BusinessCalendarSerializer(serializers.ModelSerializer):
    """Contract: {id, name, timezone, always_open, hours, holidays, country?}. The service
    validates and normalises hours, zone, dates and country (400 with field messages)."""

    hours = serializers.JSONField(required=False)
    holidays = serializers.JSONField(required=False)

    class Meta:
        model = BusinessCalendar
        fields = ["id", "name", "timezone", "always_open", "hours", "holidays", "country", "subdivision"]


class SLAPolicySerializer(serializers.ModelSerializer):
    """Contract: {id, name, priority, service?, customer?, response_minutes,
    resolution_minutes, calendar, warn_percent} plus type, pause conditions and actions."""

    pause_on = serializers.JSONField(required=False)

    class Meta:
        model = SLAPolicy
        fields = ["id", *POLICY_FIELDS]  # what the policy services accept, and nothing else

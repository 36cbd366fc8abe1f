"""One FilterSet for the queue page and the list endpoint, so both filter alike."""

import django_filters
from django.core.validators import RegexValidator

from org.models import Customer, Service, Team

from .filter_fields import DateBoundFilter, IncidentFilterForm
from .models import OPEN_STATUSES, Incident, IncidentType, Priority, Status
from .selectors import SLA_STATES, filter_search, filter_sla_state

STATUS_CHOICES = [("open", "Open"), *Status.choices]
SLA_STATE_CHOICES = [(s, s.replace("_", " ").capitalize()) for s in SLA_STATES]


class IncidentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        empty_label="Any status", choices=STATUS_CHOICES, method="filter_status", label="Status"
    )
    priority = django_filters.ChoiceFilter(empty_label="Any", choices=Priority.choices, label="Priority")
    team = django_filters.ModelChoiceFilter(empty_label="Any", queryset=Team.objects.all(), label="Team")
    service = django_filters.ModelChoiceFilter(
        empty_label="Any", queryset=Service.objects.all(), label="Service"
    )
    customer = django_filters.ModelChoiceFilter(
        empty_label="Any", queryset=Customer.objects.all(), label="Customer"
    )
    # Date ranges, both ends inclusive; a date-only bound is a whole day in the viewer's zone.
    created_from = DateBoundFilter(field_name="created_at", end=False, label="Created from")
    created_to = DateBoundFilter(field_name="created_at", end=True, label="Created to")
    updated_from = DateBoundFilter(field_name="updated_at", end=False, label="Updated from")
    updated_to = DateBoundFilter(field_name="updated_at", end=True, label="Updated to")
    assignee = django_filters.CharFilter(
        method="filter_assignee",
        label="Assignee",
        validators=[RegexValidator(r"^(me|none|\d+)$", "Use a user id, “me” or “none”.")],
    )
    sla_state = django_filters.ChoiceFilter(
        empty_label="Any", choices=SLA_STATE_CHOICES, method="filter_sla", label="SLA state"
    )
    type = django_filters.ChoiceFilter(empty_label="Any", choices=IncidentType.choices, label="Type")
    tier = django_filters.TypedChoiceFilter(choices=[(1, "1"), (2, "2"), (3, "3")], coerce=int, label="Tier")
    is_major = django_filters.BooleanFilter(label="Major incident")
    search = django_filters.CharFilter(
        method="filter_text",
        label="Text",
        help_text="Words, a key, or a customer's, requester's or assignee's name; every term must match.",
    )

    class Meta:
        model = Incident
        form = IncidentFilterForm
        fields = [
            "status",
            "priority",
            "team",
            "service",
            "customer",
            "assignee",
            "sla_state",
            "type",
            "tier",
        ]

    def filter_status(self, qs, name, value):
        if value == "open":
            return qs.filter(status__in=OPEN_STATUSES)
        return qs.filter(status=value)

    def filter_assignee(self, qs, name, value):
        if value == "none":
            return qs.filter(assignee__isnull=True)
        if value == "me":
            user = getattr(self.request, "user", None)
            return qs.filter(assignee=user) if user and user.is_authenticated else qs.none()
        return qs.filter(assignee_id=int(value))

    def filter_sla(self, qs, name, value):
        return filter_sla_state(qs, value)

    def filter_text(self, qs, name, value):
        return filter_search(qs, value, by_relevance=self.data.get("sort") == "relevance")
